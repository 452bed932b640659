<?php
/**
 * magento-twin: shaped like Magento's registration.php.
 */

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Magento_Customer', __DIR__);
