<?php
/**
 * Test stand-in for Magento's Integration model: its status constants and the accessors the command
 * uses (Magento's are magic DataObject getters over the integration row). save() is recorded.
 */

declare(strict_types=1);

namespace Magento\Integration\Model;

class Integration
{
    public const STATUS_INACTIVE = 0;
    public const STATUS_ACTIVE = 1;

    /** @var list<array<string, mixed>> status and data at each save(), for assertions */
    public array $saves = [];

    /** @var (callable(string): void)|null records the call order across fakes */
    public $onSave = null;

    /**
     * @param array<string, mixed> $data a row of the integration table; empty means "not found"
     */
    public function __construct(private array $data = [])
    {
    }

    public function getId(): mixed
    {
        return $this->data['integration_id'] ?? null;
    }

    public function getName(): mixed
    {
        return $this->data['name'] ?? null;
    }

    public function getConsumerId(): mixed
    {
        return $this->data['consumer_id'] ?? null;
    }

    public function getEndpoint(): mixed
    {
        return $this->data['endpoint'] ?? null;
    }

    public function getIdentityLinkUrl(): mixed
    {
        return $this->data['identity_link_url'] ?? null;
    }

    public function getStatus(): int
    {
        return (int) ($this->data['status'] ?? 0);
    }

    public function setStatus(int $value): static
    {
        $this->data['status'] = $value;
        return $this;
    }

    public function save(): static
    {
        $this->saves[] = $this->data;
        if ($this->onSave !== null) {
            ($this->onSave)('save');
        }
        return $this;
    }
}
