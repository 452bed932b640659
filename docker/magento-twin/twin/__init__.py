"""magento-twin: an offline stand-in reproducing Magento 2.4.7's observable behaviour (see README.md)."""
