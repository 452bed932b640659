<?php
/**
 * Test stand-in: in Magento, Oauth\Exception extends this, which extends LocalizedException.
 */

declare(strict_types=1);

namespace Magento\Framework\Exception;

class AuthenticationException extends LocalizedException
{
}
