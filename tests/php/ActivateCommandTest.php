<?php
/**
 * Behaviour test of `integration:activate` without Magento: the real command class runs through
 * Symfony's CommandTester against recording fakes of Magento's Integration and OAuth services
 * (stand-in interfaces in standins/). Asserts the exact output, stream and exit code of
 * docs/interfaces.md "CLI activation helper module", and the service calls behind each outcome.
 *
 * Plain PHP (no PHPUnit): php tests/php/ActivateCommandTest.php; last line "N passed, M failed".
 */

declare(strict_types=1);

namespace Reintegrate\CliActivation\Test;

use Magento\Framework\Oauth\Exception as OauthException;
use Magento\Integration\Model\Integration;
use Reintegrate\CliActivation\Console\Command\ActivateCommand;
use Symfony\Component\Console\Application;
use Symfony\Component\Console\Exception\RuntimeException as ConsoleRuntimeException;
use Symfony\Component\Console\Tester\CommandTester;

const SYMFONY_CONSOLE_AUTOLOAD = '/usr/share/php/Symfony/Component/Console/autoload.php';

if (!is_file(SYMFONY_CONSOLE_AUTOLOAD)) {
    fwrite(STDERR, "Symfony Console not found at " . SYMFONY_CONSOLE_AUTOLOAD
        . ": install Debian's php-symfony-console.\n");
    exit(2);
}
require SYMFONY_CONSOLE_AUTOLOAD;

// Magento names resolve to the stand-ins, the module's own classes to its real source.
spl_autoload_register(static function (string $class): void {
    $roots = [
        'Magento\\' => __DIR__ . '/standins/',
        'Reintegrate\\CliActivation\\Test\\' => null,
        'Reintegrate\\CliActivation\\' => dirname(__DIR__, 2) . '/magento/Reintegrate/CliActivation/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            if ($dir !== null) {
                $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                }
            }
            return;
        }
    }
});
require __DIR__ . '/Fakes.php';

const POST_FAILED = 'The attempt to post data to consumer failed due to an unexpected error. Please try again later.';
const NO_HANDSHAKE = 'has no endpoint URL or identity link URL: Magento activates it without the OAuth handshake '
    . '(set both in its configuration).';

final class AssertionFailed extends \Exception
{
}

function assertSame(mixed $expected, mixed $actual, string $what): void
{
    if ($expected !== $actual) {
        throw new AssertionFailed(sprintf(
            "%s\n      expected: %s\n      actual:   %s",
            $what,
            var_export($expected, true),
            var_export($actual, true)
        ));
    }
}

function assertNotContains(string $needle, string $haystack, string $what): void
{
    if (str_contains($haystack, $needle)) {
        throw new AssertionFailed("$what: found " . var_export($needle, true));
    }
}

/** One store's worth of fakes plus the command wired to them, as Magento's DI would. */
final class Harness
{
    public CallLog $log;
    public CommandTester $tester;
    /** @var array<string, Integration> */
    public array $integrations;

    public function __construct(?OauthException $postFailure = null)
    {
        $this->log = new CallLog();
        $this->integrations = [
            'acme-erp' => new Integration([
                'integration_id' => '3',
                'name' => 'acme-erp',
                'consumer_id' => '5',
                'status' => Integration::STATUS_ACTIVE,
                'endpoint' => 'http://127.0.0.1:8099/endpoint',
                'identity_link_url' => 'http://127.0.0.1:8099/identity',
            ]),
            'no-endpoint' => new Integration([
                'integration_id' => '4',
                'name' => 'no-endpoint',
                'consumer_id' => '6',
                'status' => Integration::STATUS_INACTIVE,
                'endpoint' => '',
                'identity_link_url' => 'http://127.0.0.1:8099/identity',
            ]),
            'no-identity-link' => new Integration([
                'integration_id' => '7',
                'name' => 'no-identity-link',
                'consumer_id' => '8',
                'status' => Integration::STATUS_INACTIVE,
                'endpoint' => 'http://127.0.0.1:8099/endpoint',
                'identity_link_url' => null,
            ]),
        ];
        $command = new ActivateCommand(
            new FakeIntegrationService($this->integrations, $this->log),
            new FakeOauthService($this->log, $postFailure)
        );
        $this->tester = new CommandTester($command);
    }

    /** @param array<string, mixed> $input */
    public function run(array $input): int
    {
        return $this->tester->execute($input, ['capture_stderr_separately' => true]);
    }

    public function stdout(): string
    {
        return $this->tester->getDisplay(true);
    }

    public function stderr(): string
    {
        return $this->tester->getErrorOutput(true);
    }

    public function assertNoSecretsPrinted(): void
    {
        foreach ([FakeOauthService::CONSUMER_KEY, FakeOauthService::CONSUMER_SECRET] as $secret) {
            assertNotContains($secret, $this->stdout() . $this->stderr(), 'output holds a consumer credential');
        }
    }
}

function lines(string ...$lines): string
{
    return implode("\n", $lines) . "\n";
}

/** @var array<string, callable(): void> $tests */
$tests = [];

$tests['is registered as integration:activate NAME [--reauthorize]'] = static function (): void {
    $definition = new ActivateCommand(
        new FakeIntegrationService([], new CallLog()),
        new FakeOauthService(new CallLog())
    );
    assertSame('integration:activate', $definition->getName(), 'command name');
    assertSame(true, $definition->getDefinition()->getArgument('name')->isRequired(), 'NAME is required');
    assertSame(
        false,
        $definition->getDefinition()->getOption('reauthorize')->acceptValue(),
        '--reauthorize is a flag'
    );
    // bin/magento is a Symfony Application: the command must resolve by its full name there too.
    $application = new Application();
    $application->add($definition);
    assertSame($definition, $application->find('integration:activate'), 'found by the application');
};

$tests['success without --reauthorize: prints ids and endpoint, posts once, token and status untouched'] =
    static function (): void {
        $h = new Harness();
        $exit = $h->run(['name' => 'acme-erp']);
        assertSame(0, $exit, 'exit code');
        assertSame(lines(
            'integration_id: 3',
            'consumer_id: 5',
            'endpoint: http://127.0.0.1:8099/endpoint',
            'reauthorized: no',
            'posted: yes'
        ), $h->stdout(), 'stdout');
        assertSame('', $h->stderr(), 'stderr');
        assertSame(['findByName', 'postToConsumer'], $h->log->methods(), 'service calls, in order');
        assertSame([['5', 'http://127.0.0.1:8099/endpoint']], $h->log->argsOf('postToConsumer'), 'post args');
        assertSame(Integration::STATUS_ACTIVE, $h->integrations['acme-erp']->getStatus(), 'status left as it was');
        assertSame([], $h->integrations['acme-erp']->saves, 'integration not saved');
        $h->assertNoSecretsPrinted();
    };

$tests['success with --reauthorize: deletes the token, sets status 0 and saves, then posts'] =
    static function (): void {
        $h = new Harness();
        $exit = $h->run(['name' => 'acme-erp', '--reauthorize' => true]);
        assertSame(0, $exit, 'exit code');
        assertSame(lines(
            'integration_id: 3',
            'consumer_id: 5',
            'endpoint: http://127.0.0.1:8099/endpoint',
            'reauthorized: yes',
            'posted: yes'
        ), $h->stdout(), 'stdout');
        assertSame('', $h->stderr(), 'stderr');
        assertSame(
            ['findByName', 'deleteIntegrationToken', 'save', 'postToConsumer'],
            $h->log->methods(),
            'service calls, in order (as Admin tokensExchange with reauthorize=1)'
        );
        assertSame([['5']], $h->log->argsOf('deleteIntegrationToken'), 'token deleted for the consumer id');
        $saves = $h->integrations['acme-erp']->saves;
        assertSame(1, count($saves), 'integration saved once');
        assertSame(Integration::STATUS_INACTIVE, $saves[0]['status'], 'saved with status 0');
        assertSame([['5', 'http://127.0.0.1:8099/endpoint']], $h->log->argsOf('postToConsumer'), 'post args');
        $h->assertNoSecretsPrinted();
    };

$tests['unknown name: exit 1, exact stderr, nothing on stdout, no OAuth call'] = static function (): void {
    $h = new Harness();
    $exit = $h->run(['name' => 'nope', '--reauthorize' => true]);
    assertSame(1, $exit, 'exit code');
    assertSame('', $h->stdout(), 'stdout');
    assertSame(lines('Integration "nope" does not exist.'), $h->stderr(), 'stderr');
    assertSame(['findByName'], $h->log->methods(), 'service calls');
};

$tests['name with console markup is printed as given'] = static function (): void {
    $h = new Harness();
    $exit = $h->run(['name' => '<error>x</error>']);
    assertSame(1, $exit, 'exit code');
    assertSame(lines('Integration "<error>x</error>" does not exist.'), $h->stderr(), 'stderr');
};

$tests['no endpoint (C5.1): exit 1, exact stderr, token, status and endpoint untouched'] =
    static function (): void {
        $h = new Harness();
        $exit = $h->run(['name' => 'no-endpoint', '--reauthorize' => true]);
        assertSame(1, $exit, 'exit code');
        assertSame('', $h->stdout(), 'stdout');
        assertSame(lines('Integration "no-endpoint" ' . NO_HANDSHAKE), $h->stderr(), 'stderr');
        assertSame(['findByName'], $h->log->methods(), 'service calls');
        assertSame([], $h->integrations['no-endpoint']->saves, 'integration not saved');
    };

$tests['no identity link URL (C5.1): exit 1, exact stderr, no OAuth call'] = static function (): void {
    $h = new Harness();
    $exit = $h->run(['name' => 'no-identity-link']);
    assertSame(1, $exit, 'exit code');
    assertSame('', $h->stdout(), 'stdout');
    assertSame(lines('Integration "no-identity-link" ' . NO_HANDSHAKE), $h->stderr(), 'stderr');
    assertSame(['findByName'], $h->log->methods(), 'service calls');
};

$tests['POST undeliverable: exit 1, Magento\'s message on stderr, nothing on stdout'] = static function (): void {
    $h = new Harness(new OauthException(POST_FAILED));
    $exit = $h->run(['name' => 'acme-erp']);
    assertSame(1, $exit, 'exit code');
    assertSame('', $h->stdout(), 'stdout');
    assertSame(lines(POST_FAILED), $h->stderr(), 'stderr');
    assertSame(['findByName', 'postToConsumer'], $h->log->methods(), 'service calls');
    $h->assertNoSecretsPrinted();
};

$tests['POST undeliverable with --reauthorize: token already deleted and status 0, as in Admin'] =
    static function (): void {
        $h = new Harness(new OauthException(POST_FAILED));
        $exit = $h->run(['name' => 'acme-erp', '--reauthorize' => true]);
        assertSame(1, $exit, 'exit code');
        assertSame('', $h->stdout(), 'stdout');
        assertSame(lines(POST_FAILED), $h->stderr(), 'stderr');
        assertSame(
            ['findByName', 'deleteIntegrationToken', 'save', 'postToConsumer'],
            $h->log->methods(),
            'service calls, in order'
        );
        assertSame(Integration::STATUS_INACTIVE, $h->integrations['acme-erp']->getStatus(), 'status 0');
    };

$tests['missing NAME: Symfony refuses before any service call'] = static function (): void {
    $h = new Harness();
    try {
        $h->run([]);
    } catch (ConsoleRuntimeException $exception) {
        assertSame('Not enough arguments (missing: "name").', $exception->getMessage(), 'error');
        assertSame([], $h->log->methods(), 'service calls');
        return;
    }
    throw new AssertionFailed('ran without NAME');
};

$passed = 0;
$failed = 0;
foreach ($tests as $name => $test) {
    try {
        $test();
        $passed++;
        echo "ok   $name\n";
    } catch (\Throwable $error) {
        $failed++;
        $detail = $error instanceof AssertionFailed
            ? $error->getMessage()
            : get_class($error) . ': ' . $error->getMessage() . ' at ' . $error->getFile() . ':' . $error->getLine();
        echo "FAIL $name\n    $detail\n";
    }
}
echo "$passed passed, $failed failed\n";
exit($failed === 0 ? 0 : 1);
