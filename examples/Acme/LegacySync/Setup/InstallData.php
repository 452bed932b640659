<?php
declare(strict_types=1);

namespace Acme\LegacySync\Setup;

use Magento\Framework\Setup\InstallDataInterface;
use Magento\Framework\Setup\ModuleContextInterface;
use Magento\Framework\Setup\ModuleDataSetupInterface;
use Magento\Integration\Model\ConfigBasedIntegrationManager;

/**
 * Creates the "Acme Legacy Sync" integration from etc/integration/{config,api}.xml. Runs only while the
 * module has no setup_module row: that is why a reinstall deletes the row first.
 */
class InstallData implements InstallDataInterface
{
    public function __construct(private readonly ConfigBasedIntegrationManager $integrationManager)
    {
    }

    public function install(ModuleDataSetupInterface $setup, ModuleContextInterface $context): void
    {
        $this->integrationManager->processIntegrationConfig(['Acme Legacy Sync']);
    }
}
