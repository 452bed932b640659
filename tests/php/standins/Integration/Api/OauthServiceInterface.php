<?php
/**
 * Test stand-in: the two methods of Magento's OauthServiceInterface the command calls.
 */

declare(strict_types=1);

namespace Magento\Integration\Api;

interface OauthServiceInterface
{
    /**
     * @param int $consumerId
     * @return bool false when there was no token to delete
     */
    public function deleteIntegrationToken($consumerId);

    /**
     * @param int $consumerId
     * @param string $endpointUrl
     * @return string the oauth_verifier posted
     * @throws \Magento\Framework\Exception\LocalizedException
     * @throws \Magento\Framework\Oauth\Exception when the POST cannot be delivered
     */
    public function postToConsumer($consumerId, $endpointUrl);
}
