<?php
/**
 * Test stand-in for Magento's LocalizedException: only the class hierarchy and message matter here.
 * Magento's takes a Phrase; getMessage() returns the rendered text either way.
 */

declare(strict_types=1);

namespace Magento\Framework\Exception;

class LocalizedException extends \Exception
{
    public function __construct(\Stringable|string $phrase, ?\Throwable $cause = null, int $code = 0)
    {
        parent::__construct((string) $phrase, $code, $cause);
    }
}
