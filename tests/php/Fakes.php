<?php
/**
 * Recording fakes behind the Magento service interfaces, so the test can see which calls the command
 * made, with which arguments, in which order, without a Magento store.
 */

declare(strict_types=1);

namespace Reintegrate\CliActivation\Test;

use Magento\Framework\Oauth\Exception as OauthException;
use Magento\Integration\Api\IntegrationServiceInterface;
use Magento\Integration\Api\OauthServiceInterface;
use Magento\Integration\Model\Integration;

/** Shared ordered log of the calls made on the fakes. */
final class CallLog
{
    /** @var list<array{0: string, 1: list<mixed>}> */
    public array $calls = [];

    public function record(string $method, mixed ...$args): void
    {
        $this->calls[] = [$method, $args];
    }

    /** @return list<string> */
    public function methods(): array
    {
        return array_map(static fn (array $call): string => $call[0], $this->calls);
    }

    /** @return list<list<mixed>> arguments of each call to $method */
    public function argsOf(string $method): array
    {
        $found = [];
        foreach ($this->calls as [$name, $args]) {
            if ($name === $method) {
                $found[] = $args;
            }
        }
        return $found;
    }
}

/** Integrations by name; an unknown name yields an empty model, as Magento's service does. */
final class FakeIntegrationService implements IntegrationServiceInterface
{
    /** @param array<string, Integration> $byName */
    public function __construct(private array $byName, private CallLog $log)
    {
        foreach ($this->byName as $integration) {
            $integration->onSave = fn (string $what) => $this->log->record($what);
        }
    }

    public function findByName($integrationName)
    {
        $this->log->record('findByName', $integrationName);
        return $this->byName[$integrationName] ?? new Integration();
    }
}

/**
 * Records deleteIntegrationToken/postToConsumer. With $postFailure set, postToConsumer throws it, as
 * Magento's OauthService does when the endpoint cannot be reached.
 */
final class FakeOauthService implements OauthServiceInterface
{
    /** Values the real service posts to the endpoint: they must never reach the command's output. */
    public const CONSUMER_KEY = 'ck0123456789abcdef0123456789abcd';
    public const CONSUMER_SECRET = 'cs0123456789abcdef0123456789abcd';

    public function __construct(private CallLog $log, private ?OauthException $postFailure = null)
    {
    }

    public function deleteIntegrationToken($consumerId)
    {
        $this->log->record('deleteIntegrationToken', $consumerId);
        return true;
    }

    public function postToConsumer($consumerId, $endpointUrl)
    {
        $this->log->record('postToConsumer', $consumerId, $endpointUrl);
        if ($this->postFailure !== null) {
            throw $this->postFailure;
        }
        return 'verifier0123456789abcdef01234567';
    }
}
