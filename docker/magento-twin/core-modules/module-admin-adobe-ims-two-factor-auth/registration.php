<?php
/**
 * magento-twin: shaped like Magento's registration.php.
 */

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Magento_AdminAdobeImsTwoFactorAuth', __DIR__);
