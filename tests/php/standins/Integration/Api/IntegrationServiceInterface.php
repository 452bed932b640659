<?php
/**
 * Test stand-in: the one method of Magento's IntegrationServiceInterface the command calls.
 */

declare(strict_types=1);

namespace Magento\Integration\Api;

use Magento\Integration\Model\Integration as IntegrationModel;

interface IntegrationServiceInterface
{
    /**
     * Like Magento: an empty model (getId() null) when no integration has that name.
     *
     * @param string $integrationName
     * @return IntegrationModel
     */
    public function findByName($integrationName);
}
