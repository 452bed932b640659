<?php
/**
 * Registers the module with Magento so `module:enable Reintegrate_CliActivation` can find it.
 */

declare(strict_types=1);

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Reintegrate_CliActivation', __DIR__);
