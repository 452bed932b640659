"""Install an integration module's files into app/code (C1.3, C3.1, C3.3) with an ACL check (C4.1).

Public API:
    @dataclass IntegrationSpec(name, email, endpoint_url, identity_link_url, resources)
    specs_from_option(spec: dict) -> list[IntegrationSpec]
    render_module(module, integrations, fmt, setup_version=None, sequence=("Magento_Integration",))
        -> dict[relpath, bytes]
    read_src(src) -> dict[relpath, bytes];  detect_format(files) -> "consolidated" | "legacy" | None
    integrations_from_files(files) -> list[IntegrationSpec]     resources as the files list them
    check_acl(tree, integrations, fmt, acl_parents) -> (integrations, added_parents, warnings)
    plan_files(desired, installed_hashes, prune) -> dict(added, modified, removed, unchanged)
    install_module(params, module, src, spec, fmt, acl_parents, acl_check, prune, check_mode) -> dict
"""

from __future__ import annotations

import hashlib
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from typing import Any

from ansible.module_utils.magento_acl import AclError, AclTree, parse_xml_safely
from ansible.module_utils.magento_common import ModuleFailure, SiteParams
from ansible.module_utils.magento_contract import (
    ACL_XML,
    INTEGRATION_XML,
    LEGACY_API_XML,
    LEGACY_CONFIG_XML,
    LEGACY_INSTALL_DATA,
    MODULE_NAME_PATTERN,
    MODULE_XML,
    REGISTRATION_PHP,
)
from ansible.module_utils.magento_site import module_name_from_xml, setup_version_from_xml, site_from_params

XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMAS = {
    MODULE_XML: "urn:magento:framework:Module/etc/module.xsd",
    INTEGRATION_XML: "urn:magento:module:Magento_Integration:etc/integration/integration.xsd",
    LEGACY_CONFIG_XML: "urn:magento:module:Magento_Integration:etc/integration/integration_config.xsd",
    LEGACY_API_XML: "urn:magento:module:Magento_Integration:etc/integration/api.xsd",
}
FORMATS = ("consolidated", "legacy")


@dataclass(frozen=True)
class IntegrationSpec:
    name: str
    email: str | None = None
    endpoint_url: str | None = None
    identity_link_url: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)


def specs_from_option(spec: dict[str, Any]) -> list[IntegrationSpec]:
    items = spec.get("integrations")
    if not isinstance(items, list) or not items:
        raise ModuleFailure(
            "spec.integrations must be a non-empty list: give at least one integration with a name"
        )
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("name"):
            raise ModuleFailure(f"spec.integrations[{i}] has no name: every integration needs one")
        unknown = set(item) - {"name", "email", "endpoint_url", "identity_link_url", "resources"}
        if unknown:
            raise ModuleFailure(
                f"spec.integrations[{i}] has unknown keys {sorted(unknown)}: use name, email, endpoint_url, "
                "identity_link_url, resources"
            )
        resources = item.get("resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
            raise ModuleFailure(
                f"spec.integrations[{i}].resources must be a list of ACL ids such as Magento_Sales::sales"
            )
        out.append(
            IntegrationSpec(
                name=str(item["name"]),
                email=item.get("email"),
                endpoint_url=item.get("endpoint_url"),
                identity_link_url=item.get("identity_link_url"),
                resources=tuple(dict.fromkeys(resources)),
            )
        )
    return out


def _xml(root: ET.Element) -> bytes:
    ET.indent(root, space="    ")
    return ('<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n").encode()


def _config_root(tag: str, schema_file: str) -> ET.Element:
    return ET.Element(tag, {"xmlns:xsi": XSI, "xsi:noNamespaceSchemaLocation": _SCHEMAS[schema_file]})


def _php_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_module_xml(module: str, setup_version: str | None, sequence: tuple[str, ...]) -> bytes:
    root = _config_root("config", MODULE_XML)
    attrs = {"name": module}
    if setup_version:
        attrs["setup_version"] = setup_version
    node = ET.SubElement(root, "module", attrs)
    if sequence:
        seq = ET.SubElement(node, "sequence")
        for dep in sequence:
            ET.SubElement(seq, "module", {"name": dep})
    return _xml(root)


def _details(parent: ET.Element, spec: IntegrationSpec) -> None:
    for tag, value in (
        ("email", spec.email),
        ("endpoint_url", spec.endpoint_url),
        ("identity_link_url", spec.identity_link_url),
    ):
        if value is not None:
            ET.SubElement(parent, tag).text = value


def _resources(parent: ET.Element, spec: IntegrationSpec) -> None:
    res = ET.SubElement(parent, "resources")
    for rid in spec.resources:
        ET.SubElement(res, "resource", {"name": rid})


def render_module(
    module: str,
    integrations: list[IntegrationSpec],
    fmt: str,
    setup_version: str | None = None,
    sequence: tuple[str, ...] = ("Magento_Integration",),
) -> dict[str, bytes]:
    vendor, _, name = module.partition("_")
    files = {
        REGISTRATION_PHP: (
            "<?php\n\nuse Magento\\Framework\\Component\\ComponentRegistrar;\n\n"
            f"ComponentRegistrar::register(ComponentRegistrar::MODULE, {_php_str(module)}, __DIR__);\n"
        ).encode(),
    }
    if fmt == "consolidated":
        files[MODULE_XML] = render_module_xml(module, setup_version, sequence)
        root = _config_root("config", INTEGRATION_XML)
        for spec in integrations:
            node = ET.SubElement(root, "integration", {"name": spec.name})
            _details(node, spec)
            _resources(node, spec)
        files[INTEGRATION_XML] = _xml(root)
        return files
    # Legacy (C3.3): config.xml, api.xml, InstallData calling processIntegrationConfig, setup_version.
    files[MODULE_XML] = render_module_xml(module, setup_version or "1.0.0", sequence)
    config = _config_root("integrations", LEGACY_CONFIG_XML)
    api = _config_root("integrations", LEGACY_API_XML)
    for spec in integrations:
        _details(ET.SubElement(config, "integration", {"name": spec.name}), spec)
        _resources(ET.SubElement(api, "integration", {"name": spec.name}), spec)
    files[LEGACY_CONFIG_XML] = _xml(config)
    files[LEGACY_API_XML] = _xml(api)
    names = ", ".join(_php_str(s.name) for s in integrations)
    files[LEGACY_INSTALL_DATA] = f"""<?php
namespace {vendor}\\{name}\\Setup;

use Magento\\Framework\\Setup\\InstallDataInterface;
use Magento\\Framework\\Setup\\ModuleContextInterface;
use Magento\\Framework\\Setup\\ModuleDataSetupInterface;
use Magento\\Integration\\Model\\ConfigBasedIntegrationManager;

class InstallData implements InstallDataInterface
{{
    public function __construct(private ConfigBasedIntegrationManager $integrationManager)
    {{
    }}

    public function install(ModuleDataSetupInterface $setup, ModuleContextInterface $context)
    {{
        $this->integrationManager->processIntegrationConfig([{names}]);
    }}
}}
""".encode()
    return files


def read_src(src: str) -> dict[str, bytes]:
    if not os.path.isdir(src):
        raise ModuleFailure(
            f"src {src} is not a folder: give the module's folder (the one holding registration.php)"
        )
    files: dict[str, bytes] = {}
    for dirpath, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in sorted(names):
            if n.startswith("."):
                continue
            full = os.path.join(dirpath, n)
            if os.path.isfile(full):
                with open(full, "rb") as fh:
                    files[os.path.relpath(full, src).replace(os.sep, "/")] = fh.read()
    return files


def detect_format(files: dict[str, bytes]) -> str | None:
    """The integration config format of a module's files; None for a module that declares none (a plain
    module such as the CLI activation helper, installed through the same path)."""
    if INTEGRATION_XML in files:
        return "consolidated"
    if LEGACY_API_XML in files or LEGACY_CONFIG_XML in files:
        return "legacy"
    return None


def _parse(files: dict[str, bytes], rel: str) -> ET.Element | None:
    if rel not in files:
        return None
    try:
        return parse_xml_safely(files[rel], rel)
    except AclError as exc:
        raise ModuleFailure(f"{exc}: fix the file") from None


def integrations_from_files(files: dict[str, bytes]) -> list[IntegrationSpec]:
    def text(node: ET.Element, tag: str) -> str | None:
        child = node.find(tag)
        return None if child is None else (child.text or "").strip()

    def resources(node: ET.Element) -> tuple[str, ...]:
        return tuple(r.get("name", "") for r in node.findall("resources/resource") if r.get("name"))

    out: dict[str, IntegrationSpec] = {}
    root = _parse(files, INTEGRATION_XML)
    if root is not None:
        for node in root.findall("integration"):
            name = node.get("name", "")
            out[name] = IntegrationSpec(
                name,
                text(node, "email"),
                text(node, "endpoint_url"),
                text(node, "identity_link_url"),
                resources(node),
            )
        return list(out.values())
    config, api = _parse(files, LEGACY_CONFIG_XML), _parse(files, LEGACY_API_XML)
    for node in config.findall("integration") if config is not None else []:
        name = node.get("name", "")
        out[name] = IntegrationSpec(
            name, text(node, "email"), text(node, "endpoint_url"), text(node, "identity_link_url")
        )
    for node in api.findall("integration") if api is not None else []:
        name = node.get("name", "")
        out[name] = replace(out.get(name, IntegrationSpec(name)), resources=resources(node))
    return list(out.values())


def check_acl(
    tree: AclTree, integrations: list[IntegrationSpec], fmt: str, acl_parents: str
) -> tuple[list[IntegrationSpec], dict[str, dict[str, list[str]]], list[str]]:
    problems = []
    for spec in integrations:
        for rid in tree.unknown(spec.resources):
            hint = tree.suggest(rid)
            problems.append(
                f"{spec.name}: unknown ACL resource {rid!r}"
                + (f" (did you mean {', '.join(hint)}?)" if hint else "")
            )
    if problems:
        raise ModuleFailure(
            "; ".join(problems)
            + ". Magento would drop unknown ids silently (C3.1): fix the ids, or enable the "
            "module that defines them"
        )
    added: dict[str, dict[str, list[str]]] = {}
    warnings: list[str] = []
    if fmt != "legacy":
        return integrations, added, warnings
    result = []
    for spec in integrations:
        missing = tree.missing_ancestors(spec.resources)
        if not missing:
            result.append(spec)
            continue
        flat = sorted({a for anc in missing.values() for a in anc})
        text = f"{spec.name}: the legacy format adds no parents (C3.3); missing ancestors {flat}"
        if acl_parents == "fail":
            raise ModuleFailure(text + ": list them in etc/integration/api.xml, or set acl_parents: add")
        if acl_parents == "warn":
            warnings.append(text + ": Magento will grant the listed ids without them")
            result.append(spec)
            continue
        added[spec.name] = missing
        result.append(replace(spec, resources=tuple(tree.ordered([*spec.resources, *flat]))))
    return result, added, warnings


def plan_files(desired: dict[str, bytes], installed: dict[str, str], prune: bool) -> dict[str, list[str]]:
    plan: dict[str, list[str]] = {"added": [], "modified": [], "removed": [], "unchanged": []}
    for rel, content in sorted(desired.items()):
        digest = hashlib.sha256(content).hexdigest()
        if rel not in installed:
            plan["added"].append(rel)
        elif installed[rel] != digest:
            plan["modified"].append(rel)
        else:
            plan["unchanged"].append(rel)
    if prune:
        plan["removed"] = sorted(set(installed) - set(desired))
    return plan


def _listing(files: dict[str, str]) -> str:
    return "".join(f"{rel}  sha256:{digest[:12]}\n" for rel, digest in sorted(files.items()))


def install_module(
    params: SiteParams,
    module: str,
    src: str | None,
    spec: dict[str, Any] | None,
    fmt: str | None,
    acl_parents: str | None,
    acl_check: bool,
    prune: bool,
    check_mode: bool,
) -> dict[str, Any]:
    if not MODULE_NAME_PATTERN.match(module or ""):
        raise ModuleFailure(f"module name {module!r} is not Vendor_Module: give e.g. Acme_Sync")
    warnings: list[str] = []
    if src:
        desired = read_src(src)
        detected = detect_format(desired)
        if fmt and fmt != detected:
            held = f"the {detected} format" if detected else "no integration config (C3.1, C3.3)"
            raise ModuleFailure(f"format is {fmt} but src holds {held}: drop format or fix src")
        fmt = detected
        if MODULE_XML not in desired:  # an empty folder, or not a module's: "declares None" named no cause
            raise ModuleFailure(
                f"src {src} has no {MODULE_XML} ({len(desired)} file(s) in it): give the module's folder "
                "(the one holding registration.php and etc/module.xml)"
            )
        declared = module_name_from_xml(desired.get(MODULE_XML, b""))
        if declared != module:
            raise ModuleFailure(
                f"src's {MODULE_XML} declares {declared!r}, not {module!r}: fix module or src"
            )
        integrations = integrations_from_files(desired)
        acl_parents = acl_parents or "fail"
    else:
        fmt = fmt or "consolidated"
        integrations = specs_from_option(spec or {})
        acl_parents = acl_parents or "add"
        desired = {}
    site = site_from_params(params)
    added: dict[str, Any] = {}
    if acl_check and integrations:
        tree = AclTree.from_files(site.acl_xml_files())
        if len(tree) == 0:
            raise ModuleFailure(
                "no etc/acl.xml found in enabled modules under vendor/ or app/code: check magento_root, "
                "or set acl_check: false"
            )
        if ACL_XML in desired:
            try:
                tree.add_xml(desired[ACL_XML], f"{module}/{ACL_XML}")
            except AclError as exc:
                raise ModuleFailure(f"{exc}: fix the module's acl.xml") from None
        integrations, added, warnings = check_acl(tree, integrations, fmt, acl_parents)
        if src and added:
            # acl_parents: add with src: api.xml is regenerated with the ancestors (other files kept).
            rendered = render_module(module, integrations, "legacy")
            desired[LEGACY_API_XML] = rendered[LEGACY_API_XML]
    if not src:
        desired = render_module(
            module,
            integrations,
            fmt,
            (spec or {}).get("setup_version"),
            tuple((spec or {}).get("sequence", ["Magento_Integration"])),
        )
    dest = site.module_dir(module)
    installed = site.runner.file_hashes(dest)
    plan = plan_files(desired, installed, prune)
    changed = bool(plan["added"] or plan["modified"] or plan["removed"])
    after = {rel: hashlib.sha256(c).hexdigest() for rel, c in desired.items()}
    if not prune:
        after = {**installed, **after}
    diffs: list[dict[str, str]] = [
        {
            "before_header": f"{dest} (files)",
            "after_header": f"{dest} (files)",
            "before": _listing(installed),
            "after": _listing(after),
        }
    ]
    for rel in plan["modified"] + plan["added"]:
        old = site.runner.read_file(f"{dest}/{rel}") if rel in plan["modified"] else b""
        diffs.append(
            {
                "before_header": f"{dest}/{rel}",
                "after_header": f"{dest}/{rel}",
                "before": (old or b"").decode("utf-8", "replace"),
                "after": desired[rel].decode("utf-8", "replace"),
            }
        )
    if changed and not check_mode:
        to_write = {rel: desired[rel] for rel in plan["added"] + plan["modified"]}
        if to_write:
            site.runner.write_files(dest, to_write, 0o644, site.owner())
        for rel in plan["removed"]:
            site.runner.remove_tree(f"{dest}/{rel}")
        if site.runner.file_hashes(dest) != after:
            raise ModuleFailure(
                f"files under {dest} differ from what was written: check the disk and permissions"
            )
    enabled = site.config_modules()
    return {
        "changed": changed,
        "module": module,
        "path": dest,
        "format": fmt,
        "setup_version": setup_version_from_xml(desired.get(MODULE_XML, b"")),
        "files": sorted(desired),
        "added": plan["added"],
        "modified": plan["modified"],
        "removed": plan["removed"],
        "integrations": [
            {
                "name": s.name,
                "email": s.email,
                "endpoint_url": s.endpoint_url,
                "identity_link_url": s.identity_link_url,
                "resources": list(s.resources),
            }
            for s in integrations
        ],
        "acl_parents_added": added,
        "acl_checked": acl_check,
        "new_to_config": not enabled.get(module, False),
        "warnings": warnings,
        "diff": diffs,
    }
