<?php
/**
 * Test stand-in for what OauthService::postToConsumer throws when the POST cannot be delivered.
 */

declare(strict_types=1);

namespace Magento\Framework\Oauth;

use Magento\Framework\Exception\AuthenticationException;

class Exception extends AuthenticationException
{
}
