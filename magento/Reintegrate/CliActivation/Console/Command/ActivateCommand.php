<?php
/**
 * `bin/magento integration:activate NAME [--reauthorize]`: the Admin's Activate / Reauthorize button
 * without the Admin, for stores where two-factor auth blocks an automated admin login.
 */

declare(strict_types=1);

namespace Reintegrate\CliActivation\Console\Command;

use Magento\Framework\Exception\LocalizedException;
use Magento\Integration\Api\IntegrationServiceInterface;
use Magento\Integration\Api\OauthServiceInterface;
use Magento\Integration\Model\Integration as IntegrationModel;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\ConsoleOutputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * Runs the same service calls as Admin's tokensExchange controller, so the store posts the consumer
 * key, secret and verifier to the integration's endpoint and the OAuth handshake can follow.
 */
class ActivateCommand extends Command
{
    public const NAME = 'integration:activate';
    public const ARGUMENT_NAME = 'name';
    public const OPTION_REAUTHORIZE = 'reauthorize';

    /**
     * Both services come in as proxies (etc/di.xml): bin/magento builds every command at startup.
     */
    public function __construct(
        private readonly IntegrationServiceInterface $integrationService,
        private readonly OauthServiceInterface $oauthService,
    ) {
        parent::__construct();
    }

    /**
     * Declares the name, argument and option that `bin/magento list` shows.
     */
    protected function configure(): void
    {
        $this->setName(self::NAME)
            ->setDescription(
                'Activate an OAuth integration as Admin does: post its credentials to its endpoint'
            )
            ->addArgument(self::ARGUMENT_NAME, InputArgument::REQUIRED, 'Integration name')
            ->addOption(
                self::OPTION_REAUTHORIZE,
                null,
                InputOption::VALUE_NONE,
                'First delete the integration\'s access token and set it inactive (Admin "Reauthorize")'
            );
        parent::configure();
    }

    /**
     * Prints ids and endpoint only: the consumer key and secret travel to the endpoint, never to output.
     */
    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $name = (string) $input->getArgument(self::ARGUMENT_NAME);
        $reauthorize = (bool) $input->getOption(self::OPTION_REAUTHORIZE);

        // findByName returns an empty model (getId() null), not null, when no integration has that name.
        $integration = $this->integrationService->findByName($name);
        if (!$integration->getId()) {
            return $this->fail($output, sprintf('Integration "%s" does not exist.', $name));
        }

        // C5.1: without both URLs Admin mints tokens itself and never calls the endpoint.
        $endpoint = trim((string) $integration->getEndpoint());
        $identityLinkUrl = trim((string) $integration->getIdentityLinkUrl());
        if ($endpoint === '' || $identityLinkUrl === '') {
            return $this->fail($output, sprintf(
                'Integration "%s" has no endpoint URL or identity link URL: Magento activates it without the '
                . 'OAuth handshake (set both in its configuration).',
                $name
            ));
        }

        $consumerId = $integration->getConsumerId();
        if ($reauthorize) {
            // Same two steps as TokensExchange with reauthorize=1: drop the token, then mark inactive.
            $this->oauthService->deleteIntegrationToken($consumerId);
            $integration->setStatus(IntegrationModel::STATUS_INACTIVE)->save();
        }

        try {
            $this->oauthService->postToConsumer($consumerId, $integration->getEndpoint());
        } catch (LocalizedException $exception) {
            // Magento wraps any transport failure in Oauth\Exception with a fixed, secret-free message.
            return $this->fail($output, $exception->getMessage());
        }

        $lines = [
            'integration_id: ' . $integration->getId(),
            'consumer_id: ' . $consumerId,
            'endpoint: ' . $integration->getEndpoint(),
            'reauthorized: ' . ($reauthorize ? 'yes' : 'no'),
            'posted: yes',
        ];
        // Raw: names and URLs are printed as stored, never read as <tag> markup.
        $output->writeln($lines, OutputInterface::OUTPUT_RAW);

        return Command::SUCCESS;
    }

    /**
     * Writes one line to stderr (stdout stays parseable for callers) and returns the failure code.
     */
    private function fail(OutputInterface $output, string $message): int
    {
        $errorOutput = $output instanceof ConsoleOutputInterface ? $output->getErrorOutput() : $output;
        $errorOutput->writeln($message, OutputInterface::OUTPUT_RAW);

        return Command::FAILURE;
    }
}
