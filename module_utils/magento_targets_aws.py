"""boto3 for the AWS credential targets: one client per target, and AWS errors as messages that name the
cause and the fix (never a value: a message that may quote a request is scrubbed by the caller).

Public API (stable):
    HAS_BOTO3: bool
    BOTO3_INSTALL: str                    how to install boto3 (the module's missing-library message)
    DENIED_CODES, CREDENTIAL_CODES        AWS error codes read as "not allowed" / "credentials refused"
    class AwsApi(service, opts)           boto3 client from region / profile / endpoint_url or the usual
                                          AWS environment; .endpoint, .call(action, resource, expect=(),
                                          **kwargs) -> (response, None) or (None, code) for an expected code
"""

from __future__ import annotations

import re
from typing import Any

try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    HAS_BOTO3 = True
except ImportError:  # the module's main() reports it (BOTO3_INSTALL) before anything runs
    HAS_BOTO3 = False

from ansible.module_utils.magento_common import ModuleFailure
from ansible.module_utils.magento_credentials import Credentials
from ansible.module_utils.magento_targets import scrub

BOTO3_INSTALL = (
    "install it for the Python that runs this module on the control node (ansible_playbook_python): in "
    "this project '.venv/bin/pip install -e .[aws]' (pyproject's optional group aws), elsewhere "
    "'pip install boto3' (Debian: apt-get install python3-boto3)"
)
DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "KMSAccessDeniedException"}
)
CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "ExpiredToken",
        "AuthFailure",
    }
)
# IAM names the actions with these prefixes (the boto3 service names happen to match).
IAM_PREFIX = {"ssm": "ssm", "secretsmanager": "secretsmanager"}
README_IAM = "README.md, 'Credentials in AWS and Ansible Vault', lists the permissions of each target"


def _error(response: dict[str, Any]) -> tuple[str, str]:
    """(code, message) of an AWS error reply. A JSON-protocol service that answers an XML body (as moto's
    IAM check does) leaves botocore with the HTTP status as the code: the body's own Code is used then."""
    error = response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    text = str(error.get("Message", ""))
    found = re.search(r"<Code>([^<]+)</Code>", text)
    if code.isdigit() and found:
        code = found.group(1)
        message = re.search(r"<Message>([^<]*)</Message>", text)
        text = message.group(1) if message else ""
    if code == "403" and response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
        code = "AccessDenied"
    return code, " ".join(text.split())[:300]


class AwsApi:
    """One boto3 client; every call goes through ``call`` so that each failure reads the same way."""

    def __init__(self, service: str, opts: Any) -> None:
        if not HAS_BOTO3:
            raise ModuleFailure(f"boto3 is needed by target {opts.target}: {BOTO3_INSTALL}")
        self.service = service
        try:
            session = boto3.session.Session(
                profile_name=opts.profile or None, region_name=opts.region or None
            )
        except ProfileNotFound:
            raise ModuleFailure(
                f"AWS profile {opts.profile!r} is not in ~/.aws/config or ~/.aws/credentials: fix profile "
                "(magento_integration_aws_profile) or leave it empty to use the AWS environment"
            ) from None
        timeout = max(1, int(opts.aws_timeout or 20))
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        try:
            self.client = session.client(service, endpoint_url=opts.endpoint_url or None, config=config)
        except NoRegionError:
            raise ModuleFailure(
                f"no AWS region for target {opts.target}: set region (or magento_integration_aws_region), "
                "AWS_REGION, or a region in the profile's ~/.aws/config"
            ) from None
        except ValueError as exc:  # an endpoint_url botocore cannot use
            raise ModuleFailure(f"endpoint_url {opts.endpoint_url!r} is not usable: {exc}: fix it") from None
        self.endpoint = self.client.meta.endpoint_url
        self.region = self.client.meta.region_name

    def call(
        self,
        action: str,
        resource: str,
        expect: tuple[str, ...] = (),
        mask: Credentials | None = None,
        **kwargs: Any,
    ) -> tuple[Any, Any]:
        """``action`` in IAM's spelling (PutParameter). An error whose code is in ``expect`` is returned as
        (None, code); any other is a ModuleFailure naming the action, the resource and the fix. ``mask``:
        the credentials the request carries, scrubbed from any text AWS or botocore sends back."""
        method = getattr(self.client, botocore.xform_name(action))
        iam_action = f"{IAM_PREFIX.get(self.service, self.service)}:{action}"
        try:
            return method(**kwargs), None
        except ClientError as exc:
            code, text = _error(exc.response)
            text = scrub(text, mask)
            if code in expect:
                return None, code
            if code in DENIED_CODES:
                raise ModuleFailure(
                    f"AWS denied {iam_action} on {resource} ({code}: {text}): grant {iam_action} to the "
                    f"identity this run uses ({README_IAM}), or run with credentials that have it "
                    "(profile, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
                    aws_error=code,
                    aws_action=iam_action,
                ) from None
            if code in CREDENTIAL_CODES:
                raise ModuleFailure(
                    f"AWS refused the credentials this run uses for {iam_action} at {self.endpoint} ({code}: "
                    f"{text}): fix AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN or the profile, "
                    "or renew an expired session",
                    aws_error=code,
                    aws_action=iam_action,
                ) from None
            raise ModuleFailure(
                f"{iam_action} on {resource} failed ({code}: {text}): fix the target's options (name, "
                "prefix, kms_key_id, region) or the resource in AWS",
                aws_error=code,
                aws_action=iam_action,
            ) from None
        except (NoCredentialsError, PartialCredentialsError):
            raise ModuleFailure(
                f"no AWS credentials for {iam_action}: set profile (magento_integration_aws_profile) or "
                "AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides "
                "them"
            ) from None
        except EndpointConnectionError:
            raise ModuleFailure(
                f"cannot reach AWS {self.service} at {self.endpoint} for {iam_action}: check the network, "
                "the region, and endpoint_url (magento_integration_aws_endpoint_url) when one is set",
                aws_action=iam_action,
            ) from None
        except BotoCoreError as exc:
            raise ModuleFailure(
                f"{iam_action} at {self.endpoint} failed ({type(exc).__name__}: "
                f"{scrub(str(exc), mask)}): check the network and endpoint_url",
                aws_action=iam_action,
            ) from None
