<?php
/**
 * Checks the bind-mounted Magento tree against this stack before anything touches it, and says what a
 * start has to do. Used by the entrypoint on every start and by roles/magento_stack before it starts
 * or updates the app container. Nothing here writes to the tree or the database.
 *
 *   php codebase-check.php tree          the tree has bin/magento, vendor/ and nginx.conf.sample
 *   php codebase-check.php state         waits for the DB, prints "installed" or "install"
 *   php codebase-check.php modules M...  prints the modules among M... that the tree registers
 *   php codebase-check.php refused       prints why setup:install refused the DB server, and what to do
 *
 * A check that fails prints "FATAL: <cause and fix>" and exits 2. Passwords are never printed.
 */

declare(strict_types=1);

const ROOT = '/var/www/html';

function label(): string
{
    $host = getenv('MAGENTO_CODEBASE_DIR') ?: '';
    return $host !== '' ? "the tree $host (mounted at " . ROOT . ')' : 'the tree at ' . ROOT;
}

function fatal(string $message): never
{
    fwrite(STDOUT, "FATAL: $message\n");
    exit(2);
}

function env(string $name, string $default = ''): string
{
    $value = getenv($name);
    return $value === false ? $default : $value;
}

function check_tree(): void
{
    $missing = [];
    foreach (['bin/magento', 'vendor/autoload.php', 'app/etc/di.xml', 'nginx.conf.sample'] as $path) {
        if (!file_exists(ROOT . '/' . $path)) {
            $missing[] = $path;
        }
    }
    if ($missing) {
        fatal(sprintf(
            '%s is not a Magento tree this stack can serve: %s missing. Point magento_stack_codebase_dir at '
            . 'the root of a Magento 2 project after `composer install` (the folder holding bin/magento, '
            . 'vendor/ and nginx.conf.sample).',
            label(),
            implode(', ', $missing) . (count($missing) > 1 ? ' are' : ' is')
        ));
    }
}

/** The stack's database as MAGENTO_DB_* describe it. */
function stack_db(): array
{
    $password = getenv('MAGENTO_DB_PASSWORD');
    if ($password === false || $password === '') {
        fatal('MAGENTO_DB_PASSWORD is not set (roles/magento_stack passes it; docker/README.md).');
    }
    return [
        'host' => env('MAGENTO_DB_HOST', '127.0.0.1:3306'),
        'dbname' => env('MAGENTO_DB_NAME', 'magento'),
        'username' => env('MAGENTO_DB_USER', 'magento'),
        'password' => $password,
        'prefix' => env('MAGENTO_DB_PREFIX'),
    ];
}

function connect(array $db, int $timeout = 120): PDO
{
    [$host, $port] = array_pad(explode(':', $db['host'], 2), 2, '3306');
    $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s', $host, (int) $port, $db['dbname']);
    $deadline = time() + $timeout;
    while (true) {
        try {
            return new PDO($dsn, $db['username'], $db['password'], [
                PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                PDO::ATTR_TIMEOUT => 3,
            ]);
        } catch (PDOException $exc) {
            if (time() >= $deadline) {
                fatal(sprintf(
                    'the stack\'s database is not reachable at %s (database %s, user %s) after %d s: %s. '
                    . 'Check the database container (docker logs %s-db).',
                    $db['host'], $db['dbname'], $db['username'], $timeout,
                    str_replace($db['password'], '***', $exc->getMessage()),
                    env('MAGENTO_STACK_NAME', '<stack>')
                ));
            }
            sleep(1);
        }
    }
}

/** The tree's app/etc/env.php as an array, or null when there is none. */
function tree_env(): ?array
{
    $file = ROOT . '/app/etc/env.php';
    if (!file_exists($file)) {
        return null;
    }
    $config = (static fn () => include $file)();
    if (!is_array($config)) {
        fatal(sprintf('%s has an app/etc/env.php that does not return an array; fix or remove it.', label()));
    }
    return $config;
}

/** Which of host, dbname, username, table prefix of env.php differ from the stack's database. */
function env_mismatch(array $config, array $db): array
{
    $connection = $config['db']['connection']['default'] ?? [];
    $theirs = [
        'host' => (string) ($connection['host'] ?? ''),
        'dbname' => (string) ($connection['dbname'] ?? ''),
        'username' => (string) ($connection['username'] ?? ''),
        'table_prefix' => (string) ($config['db']['table_prefix'] ?? ''),
    ];
    $ours = ['host' => $db['host'], 'dbname' => $db['dbname'], 'username' => $db['username'],
             'table_prefix' => $db['prefix']];
    $diff = [];
    foreach ($ours as $key => $value) {
        if ($theirs[$key] !== $value) {
            $diff[] = sprintf("%s '%s' (the stack's: '%s')", $key, $theirs[$key], $value);
        }
    }
    return $diff;
}

function installed_tables(PDO $pdo, array $db): bool
{
    $query = $pdo->prepare('SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?');
    $query->execute([$db['dbname'], $db['prefix'] . 'setup_module']);
    if ((int) $query->fetchColumn() === 0) {
        return false;
    }
    $table = str_replace('`', '``', $db['prefix'] . 'setup_module');
    return (int) $pdo->query("SELECT COUNT(*) FROM `$table`")->fetchColumn() > 0;
}

/** supportedVersionPatterns (name => regex) from the tree's app/etc/di.xml and any module di.xml. */
function version_patterns(): array
{
    $files = [ROOT . '/app/etc/di.xml'];
    foreach (['/vendor/*/*/etc/di.xml', '/app/code/*/*/etc/di.xml'] as $glob) {
        foreach (glob(ROOT . $glob) ?: [] as $file) {
            if (str_contains((string) file_get_contents($file), 'supportedVersionPatterns')) {
                $files[] = $file;
            }
        }
    }
    $patterns = [];
    foreach ($files as $file) {
        $dom = new DOMDocument();
        if (!@$dom->load($file)) {
            continue;
        }
        $xpath = new DOMXPath($dom);
        $items = $xpath->query(
            "//type[@name='Magento\\Framework\\DB\\Adapter\\SqlVersionProvider' or "
            . "@name='\\Magento\\Framework\\DB\\Adapter\\SqlVersionProvider']"
            . "/arguments/argument[@name='supportedVersionPatterns']/item"
        );
        foreach ($items as $item) {
            $patterns[$item->getAttribute('name')] = trim($item->textContent);
        }
    }
    return $patterns;
}

function server_version(PDO $pdo): string
{
    $row = $pdo->query("SHOW VARIABLES LIKE 'version'")->fetch(PDO::FETCH_NUM);
    return (string) ($row[1] ?? '');
}

/** Magento's own test (SqlVersionProvider): one unanchored alternation of every pattern. */
function accepts(array $patterns, string $version): bool
{
    return $patterns && preg_match('/(' . implode('|', $patterns) . ')/', $version) === 1;
}

function refusal(string $version, array $patterns): string
{
    $listed = [];
    foreach ($patterns as $name => $regex) {
        $listed[] = "$name ($regex)";
    }
    preg_match('/^(\d+\.\d+)/', $version, $short);
    $family = stripos($version, 'mariadb') !== false ? 'MariaDB' : 'MySQL';
    return sprintf(
        'this Magento tree refuses the stack\'s database server. Its app/etc/di.xml '
        . '(supportedVersionPatterns of Magento\Framework\DB\Adapter\SqlVersionProvider) accepts %s; the '
        . 'stack runs %s %s (server version %s), so `bin/magento setup:install` stops with "Current version '
        . 'of RDBMS is not supported". The stack does not patch your tree. Either add a pattern for %s to '
        . 'the tree\'s app/etc/di.xml as a local patch of your own, e.g. '
        . '<item name="MariaDB-(10.2-10.11)" xsi:type="string">^10\.([2-9]|1[01])\.</item> inside '
        . 'supportedVersionPatterns, or use a Magento release whose app/etc/di.xml accepts %s %s. Then run '
        . 'the stack\'s up again.',
        $listed ? implode(', ', $listed) : 'no version at all',
        $family, $short[1] ?? $version, $version, $short[1] ?? $version, $family, $short[1] ?? $version
    );
}

function state(): string
{
    check_tree();
    $db = stack_db();
    $pdo = connect($db, (int) env('MAGENTO_DB_WAIT', '120'));
    $config = tree_env();
    $tables = installed_tables($pdo, $db);
    $where = sprintf("host '%s', dbname '%s', user '%s', table prefix '%s'",
                     $db['host'], $db['dbname'], $db['username'], $db['prefix']);
    if ($config !== null) {
        $diff = env_mismatch($config, $db);
        if ($diff) {
            fatal(sprintf(
                '%s already has an app/etc/env.php, and it does not point at this stack\'s database: %s. '
                . 'The stack does not overwrite it. Either move that env.php aside (e.g. rename it to '
                . 'env.php.orig) so the first start installs Magento into the stack\'s database (%s) and '
                . 'writes a new one, or set magento_stack_db_* (and magento_stack_network_mode) so they '
                . 'match it.',
                label(), implode(', ', $diff), $where
            ));
        }
        if ($tables && !empty($config['install']['date'])) {
            return 'installed';
        }
    } elseif ($tables) {
        fatal(sprintf(
            'the stack\'s database (%s) already holds a Magento installation, but %s has no '
            . 'app/etc/env.php (it holds the crypt key that decrypts that database\'s secrets). Put that '
            . 'env.php back, or start afresh: take the stack down with magento_stack_purge=true (this '
            . 'deletes the database volume) and bring it up again.',
            $where, label()
        ));
    }
    $version = server_version($pdo);
    $patterns = version_patterns();
    if (!accepts($patterns, $version)) {
        fatal(refusal($version, $patterns));
    }
    return 'install';
}

/** Magento's module names registered in the tree (composer packages and app/code). */
function registered(array $names): array
{
    require ROOT . '/vendor/autoload.php';
    $registrar = new \Magento\Framework\Component\ComponentRegistrar();
    foreach (glob(ROOT . '/app/code/*/*/registration.php') ?: [] as $file) {
        include_once $file;
    }
    $paths = $registrar->getPaths(\Magento\Framework\Component\ComponentRegistrar::MODULE);
    return array_values(array_filter($names, static fn ($name) => isset($paths[$name])));
}

$command = $argv[1] ?? '';
switch ($command) {
    case 'tree':
        check_tree();
        break;
    case 'state':
        echo state(), "\n";
        break;
    case 'modules':
        echo implode(',', registered(array_slice($argv, 2))), "\n";
        break;
    case 'refused':
        $db = stack_db();
        echo 'FATAL: ', refusal(server_version(connect($db, 10)), version_patterns()), "\n";
        break;
    default:
        fwrite(STDERR, "usage: codebase-check.php tree|state|modules NAME...|refused\n");
        exit(64);
}
