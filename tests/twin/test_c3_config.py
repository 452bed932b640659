"""C3 (and C4.1/C4.2): integration configuration in both formats, recreate vs keep, legacy paths."""

from __future__ import annotations

import pytest
from twin_clients import AdminClient, handshake
from twin_support import integration_xml, unique

pytestmark = pytest.mark.docker

SALES_CHAIN = [
    "Magento_Backend::admin",
    "Magento_Sales::sales",
    "Magento_Sales::sales_operation",
    "Magento_Sales::sales_order",
    "Magento_Sales::actions",
    "Magento_Sales::actions_view",
]


def rules(stack, integration_id):
    return {
        r["resource_id"]: r["permission"]
        for r in stack.query(
            f"SELECT r.resource_id, r.permission FROM {stack.t('authorization_rule')} r "
            f"JOIN {stack.t('authorization_role')} o ON o.role_id = r.role_id "
            "WHERE o.user_id=%s AND o.user_type='1' AND o.role_type='U'",
            (integration_id,),
        )
    }


def allowed(stack, integration_id):
    return sorted(k for k, v in rules(stack, integration_id).items() if v == "allow")


def integration(stack, name):
    rows = stack.query(f"SELECT * FROM {stack.t('integration')} WHERE name=%s", (name,))
    return rows[0] if rows else None


def upgrade(stack):
    res = stack.magento("setup:upgrade", "--keep-generated")
    assert res.rc == 0, res.out + res.err
    return res


def test_c3_1_ancestors_added_unknown_dropped(stack, make_integration):
    """C3.1: listed resources get every ancestor plus Magento_Backend::admin; unknown ids are dropped."""
    row = make_integration(resources=["Magento_Sales::actions_view", "Acme_Nope::missing"])
    assert row["setup_type"] == 1 and row["status"] == 0
    assert allowed(stack, row["integration_id"]) == sorted(SALES_CHAIN)


def test_c4_2_one_row_per_acl_resource(stack, make_integration):
    """C4.2: one authorization_rule row per ACL resource, allow if granted, else deny."""
    row = make_integration(resources=["Magento_Catalog::products"])
    r = rules(stack, row["integration_id"])
    assert r["Magento_Catalog::products"] == "allow"
    assert r["Magento_Sales::actions_view"] == "deny"
    assert r["Magento_Backend::all"] == "deny"
    assert len(r) > 50
    role = stack.query(
        f"SELECT * FROM {stack.t('authorization_role')} WHERE user_id=%s AND user_type='1'",
        (row["integration_id"],),
    )[0]
    assert (role["role_type"], role["parent_id"]) == ("U", 0)


def test_c4_2_backend_all_is_one_allow_row(stack, make_module):
    """C4.2: a grant of Magento_Backend::all alone -> one allow row (Rules::saveRel). The legacy api.xml
    passes its list as written; integration.xml cannot: its converter only looks below
    Magento_Backend::admin, so `Magento_Backend::all` there is dropped and nothing is granted at all."""
    legacy, consolidated = unique(), unique()
    mod = make_module(
        {
            **legacy_files(legacy, "all@example.com", ["Magento_Backend::all"]),
            "etc/integration.xml": integration_xml(
                {consolidated: {"email": "c@example.com", "resources": ["Magento_Backend::all"]}}
            ),
        },
        setup_version="1.0.0",
        integrations=[legacy, consolidated],
    )
    mod.write({"Setup/InstallData.php": install_data(mod.name, legacy)})
    upgrade(stack)
    assert rules(stack, integration(stack, legacy)["integration_id"]) == {"Magento_Backend::all": "allow"}
    assert rules(stack, integration(stack, consolidated)["integration_id"]) == {}


def test_c4_1_module_acl_merges_into_tree(stack, make_module):
    """C4.1: a module's etc/acl.xml adds resources under existing nodes; integration.xml can use them."""
    name = unique()
    acl = (
        '<?xml version="1.0"?><config><acl><resources><resource id="Magento_Backend::admin">'
        '<resource id="Magento_Sales::sales"><resource id="Twintest_Acl::sync" title="Sync"/></resource>'
        "</resource></resources></acl></config>"
    )
    make_module(
        {
            "etc/acl.xml": acl,
            "etc/integration.xml": integration_xml(
                {name: {"email": "a@example.com", "resources": ["Twintest_Acl::sync"]}}
            ),
        },
        integrations=[name],
    )
    upgrade(stack)
    row = integration(stack, name)
    assert allowed(stack, row["integration_id"]) == sorted(
        ["Magento_Backend::admin", "Magento_Sales::sales", "Twintest_Acl::sync"]
    )


def test_c3_2_identical_config_keeps_everything(stack, make_integration, listener):
    """C3.2: with no difference, setup:upgrade keeps id, consumer, status and tokens."""
    row = make_integration(endpoint=listener.url)
    handshake(stack, AdminClient(stack), row["integration_id"], listener)
    tokens = stack.query(
        f"SELECT * FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],)
    )
    upgrade(stack)
    after = integration(stack, row["name"])
    assert (after["integration_id"], after["consumer_id"], after["status"]) == (
        row["integration_id"],
        row["consumer_id"],
        1,
    )
    assert (
        stack.query(f"SELECT * FROM {stack.t('oauth_token')} WHERE consumer_id=%s", (row["consumer_id"],))
        == tokens
    )


@pytest.mark.parametrize("change", ["email", "resources", "identity_link_url"])
def test_c3_2_difference_recreates(stack, make_integration, make_module, listener, change):
    """C3.2: a changed field or resource set -> new id, new consumer, status 2, old consumer orphaned."""
    row = make_integration(endpoint=listener.url)
    handshake(stack, AdminClient(stack), row["integration_id"], listener)
    mod = row["module"]
    spec = {
        "email": f"{row['name']}@example.com",
        "endpoint_url": listener.url,
        "identity_link_url": "http://127.0.0.1:9/identity",
        "resources": ["Magento_Sales::actions_view"],
    }
    if change == "email":
        spec["email"] = "changed@example.com"
    elif change == "resources":
        spec["resources"] = ["Magento_Catalog::products"]
    else:
        spec["identity_link_url"] = "http://127.0.0.1:9/other"
    mod.write({"etc/integration.xml": integration_xml({row["name"]: spec})})
    make_module.orphans.append(row["consumer_id"])
    upgrade(stack)
    after = integration(stack, row["name"])
    assert after["integration_id"] != row["integration_id"]
    assert after["consumer_id"] != row["consumer_id"]
    assert after["status"] == 2
    old = stack.query(f"SELECT * FROM {stack.t('oauth_consumer')} WHERE entity_id=%s", (row["consumer_id"],))
    assert len(old) == 1  # orphaned, not deleted
    keys = stack.query(
        f"SELECT `key` FROM {stack.t('oauth_consumer')} WHERE entity_id IN (%s, %s)",
        (row["consumer_id"], after["consumer_id"]),
    )
    assert len({k["key"] for k in keys}) == 2


def legacy_files(name: str, email: str, resources: list[str], extra_config: str = "") -> dict[str, str]:
    config = (
        f'<?xml version="1.0"?><integrations><integration name="{name}"><email>{email}</email>'
        f"<endpoint_url>http://127.0.0.1:9/e</endpoint_url>{extra_config}</integration></integrations>"
    )
    api = (
        f'<?xml version="1.0"?><integrations><integration name="{name}"><resources>'
        + "".join(f'<resource name="{r}"/>' for r in resources)
        + "</resources></integration></integrations>"
    )
    return {"etc/integration/config.xml": config, "etc/integration/api.xml": api}


def install_data(vendor_module: str, name: str) -> str:
    vendor, module = vendor_module.split("_")
    return (
        f"<?php\nnamespace {vendor}\\{module}\\Setup;\n\nuse "
        f"Magento\\Framework\\Setup\\InstallDataInterface;\n"
        "class InstallData implements "
        "InstallDataInterface\n{\n    public function install($setup, $context)\n"
        f"    {{\n        $this->integrationManager->processIntegrationConfig(['{name}']);\n    }}\n}}\n"
    )


def data_patch(vendor_module: str, cls: str, name: str, throw: str | None = None) -> str:
    vendor, module = vendor_module.split("_")
    body = (
        f"throw new \\RuntimeException('{throw}');"
        if throw
        else f"$this->integrationManager->processIntegrationConfig(['{name}']);"
    )
    return (
        f"<?php\ndeclare(strict_types=1);\n\nnamespace {vendor}\\{module}\\Setup\\Patch\\Data;\n\n"
        f"class {cls} implements \\Magento\\Framework\\Setup\\Patch\\DataPatchInterface\n{{\n"
        f"    public function apply()\n    {{\n        {body}\n        return $this;\n    }}\n}}\n"
    )


def test_c3_3_legacy_install_data_runs_only_without_row(stack, make_module):
    """C3.3/C8.1: InstallData runs when the setup_module row is absent; no parents; update in place."""
    name = unique()
    mod = make_module(
        legacy_files(name, "one@example.com", ["Magento_Backend::admin", "Magento_Sales::sales"]),
        setup_version="1.0.0",
        integrations=[name],
    )
    mod.write({"Setup/InstallData.php": install_data(mod.name, name)})
    upgrade(stack)
    row = integration(stack, name)
    assert (row["email"], row["setup_type"], row["status"]) == ("one@example.com", 1, 0)
    assert allowed(stack, row["integration_id"]) == ["Magento_Backend::admin", "Magento_Sales::sales"]
    assert stack.query(f"SELECT * FROM {stack.t('setup_module')} WHERE module=%s", (mod.name,)) == [
        {"module": mod.name, "schema_version": "1.0.0", "data_version": "1.0.0"}
    ]
    # Row present: an edited config is not applied.
    mod.write(
        legacy_files(name, "two@example.com", ["Magento_Backend::admin", "Magento_Sales::actions_view"])
    )
    upgrade(stack)
    assert integration(stack, name)["email"] == "one@example.com"
    # Row deleted: InstallData runs again and updates in place (same id and consumer), no parents added.
    stack.execute(f"DELETE FROM {stack.t('setup_module')} WHERE module=%s", (mod.name,))
    upgrade(stack)
    after = integration(stack, name)
    assert (after["integration_id"], after["consumer_id"], after["email"]) == (
        row["integration_id"],
        row["consumer_id"],
        "two@example.com",
    )
    assert allowed(stack, row["integration_id"]) == ["Magento_Backend::admin", "Magento_Sales::actions_view"]


def test_c3_3_legacy_resources_in_config_xml_ignored(stack, make_module):
    """C3.3: a <resources> block in config.xml is not in its schema: in developer mode (where Magento
    validates config files) setup:upgrade refuses the file; otherwise it is silently ignored (api.xml is
    what counts)."""
    name = unique()
    extra = '<resources><resource name="Magento_Catalog::products"/></resources>'
    mod = make_module(
        legacy_files(name, "x@example.com", ["Magento_Sales::sales"], extra),
        setup_version="1.0.0",
        integrations=[name],
    )
    mod.write({"Setup/InstallData.php": install_data(mod.name, name)})
    res = stack.magento("setup:upgrade", "--keep-generated")
    if stack.developer_mode:
        mod.remove_file("etc/integration/config.xml")
        assert res.rc == 1 and res.err == ""
        assert f'The XML in file "{mod.path}/etc/integration/config.xml" is invalid:' in res.out
        assert integration(stack, name) is None
        return
    assert res.rc == 0, res.out
    # Rules::saveRel allows Magento_Backend::admin with any grant.
    assert allowed(stack, integration(stack, name)["integration_id"]) == [
        "Magento_Backend::admin",
        "Magento_Sales::sales",
    ]


def test_c3_3_install_data_needs_setup_version(stack, make_module):
    """C3.3/C2.1: without setup_version, InstallData never runs and no setup_module row is written."""
    name = unique()
    mod = make_module(legacy_files(name, "x@example.com", ["Magento_Sales::sales"]), integrations=[name])
    mod.write({"Setup/InstallData.php": install_data(mod.name, name)})
    upgrade(stack)
    assert integration(stack, name) is None
    assert stack.query(f"SELECT * FROM {stack.t('setup_module')} WHERE module=%s", (mod.name,)) == []


def test_c3_3_data_patch_runs_once_per_patch_list(stack, make_module):
    """C3.3/C2.2: a data patch runs when its class is absent from patch_list, and is recorded there."""
    name = unique()
    mod = make_module(legacy_files(name, "p1@example.com", ["Magento_Sales::sales"]), integrations=[name])
    cls = f"{mod.vendor}\\{mod.short}\\Setup\\Patch\\Data\\CreateIntegration"
    mod.write({"Setup/Patch/Data/CreateIntegration.php": data_patch(mod.name, "CreateIntegration", name)})
    upgrade(stack)
    row = integration(stack, name)
    assert row["email"] == "p1@example.com"
    assert stack.query(f"SELECT patch_name FROM {stack.t('patch_list')} WHERE patch_name=%s", (cls,)) == [
        {"patch_name": cls}
    ]
    mod.write(legacy_files(name, "p2@example.com", ["Magento_Sales::sales"]))
    upgrade(stack)
    assert integration(stack, name)["email"] == "p1@example.com"
    stack.execute(f"DELETE FROM {stack.t('patch_list')} WHERE patch_name=%s", (cls,))
    upgrade(stack)
    after = integration(stack, name)
    assert (after["integration_id"], after["email"]) == (row["integration_id"], "p2@example.com")


def test_c8_2_failing_patch_message(stack, make_module):
    """C8.2: a failing data patch -> `Unable to apply data patch <class> for module <V_M>...`, exit 1."""
    mod = make_module()
    mod.write({"Setup/Patch/Data/Boom.php": data_patch(mod.name, "Boom", "x", throw="it broke")})
    res = stack.magento("setup:upgrade", "--keep-generated")
    mod.remove_file("Setup/Patch/Data/Boom.php")
    assert res.rc == 1
    cls = f"{mod.vendor}\\{mod.short}\\Setup\\Patch\\Data\\Boom"
    assert (
        f"Unable to apply data patch {cls} for module {mod.name}. Original exception message: it broke"
        in res.out + res.err
    )
    assert stack.query(f"SELECT 1 FROM {stack.t('patch_list')} WHERE patch_name=%s", (cls,)) == []


def test_c8_2_missing_role_aborts(stack, make_integration):
    """C8.2: an integration whose authorization_role row is missing aborts setup:upgrade, exit 1."""
    row = make_integration()
    stack.execute(
        f"DELETE FROM {stack.t('authorization_role')} WHERE user_id=%s AND user_type='1'",
        (row["integration_id"],),
    )
    res = stack.magento("setup:upgrade", "--keep-generated")
    # Leave the store upgradable for everyone else before asserting.
    stack.execute(f"DELETE FROM {stack.t('oauth_consumer')} WHERE entity_id=%s", (row["consumer_id"],))
    row["module"].cleanup()
    assert res.rc == 1
    assert "The role wasn't found for the user. Verify the role and try again." in res.out + res.err


def test_c8_5_new_module_integration_applied_on_second_run(stack, make_module):
    """C8.5: a module absent from config.php is enabled by setup:upgrade, its integration.xml
    applied next run."""
    name = unique()
    mod = make_module(
        {
            "etc/integration.xml": integration_xml(
                {name: {"email": "n@example.com", "resources": ["Magento_Sales::sales"]}}
            )
        },
        integrations=[name],
        enable=False,
    )
    assert f"'{mod.name}'" not in stack.read("/var/www/html/app/etc/config.php")
    upgrade(stack)
    assert f"'{mod.name}' => 1" in stack.read("/var/www/html/app/etc/config.php")
    assert integration(stack, name) is None
    upgrade(stack)
    assert integration(stack, name) is not None


def test_c8_5_module_enable_first_makes_one_run_enough(stack, make_module):
    """C8.5: module:enable before setup:upgrade -> applied in one run."""
    name = unique()
    make_module(
        {
            "etc/integration.xml": integration_xml(
                {name: {"email": "n@example.com", "resources": ["Magento_Sales::sales"]}}
            )
        },
        integrations=[name],
        enable=True,
    )
    upgrade(stack)
    assert integration(stack, name) is not None
