"""AWS set-up problems as one sentence each: what is missing and what to do about it.

The commands that reach AWS (``make promote``, infra/upload_bundle.py, ``make invoke`` of a
drift event with AWS settings) catch an exception from boto3 and, when it is one of these
set-up problems, print the sentence instead of a traceback. botocore's classes are matched
by name, so this module imports no AWS library.
"""

from __future__ import annotations

NO_REGION = ("no AWS region is configured: set AWS_REGION (or AWS_DEFAULT_REGION), or "
             "`region` in ~/.aws/config for your profile")
NO_CREDENTIALS = ("no AWS credentials were found: set AWS_PROFILE to a profile of "
                  "~/.aws/credentials or ~/.aws/config (e.g. after `aws configure` or "
                  "`aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
BAD_CREDENTIALS = ("AWS refused the credentials ({code}): they are expired or wrong; "
                   "renew them (e.g. `aws sso login`) and try again")
UNREACHABLE = "AWS cannot be reached ({detail}): check the network, the region and any endpoint"

_CREDENTIAL_ERRORS = {"NoCredentialsError", "PartialCredentialsError",
                      "CredentialRetrievalError", "NoAuthTokenError", "TokenRetrievalError",
                      "SSOTokenLoadError", "UnauthorizedSSOTokenError", "ProfileNotFound"}
_REFUSED_CODES = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                  "UnrecognizedClientException", "SignatureDoesNotMatch",
                  "InvalidAccessKeyId", "AuthFailure"}
_UNREACHABLE_ERRORS = {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"}


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def error_code(exc: BaseException) -> str | None:
    """The ``Error.Code`` of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


def explain(exc: BaseException, stack: str | None = None) -> str | None:
    """A sentence for an AWS set-up problem (no region, no or refused credentials, AWS out
    of reach, ``stack`` missing), or None for any other error."""
    names = _names(exc)
    if "NoRegionError" in names:
        return NO_REGION
    if names & _CREDENTIAL_ERRORS:
        return NO_CREDENTIALS
    if names & _UNREACHABLE_ERRORS:
        return UNREACHABLE.format(detail=type(exc).__name__)
    code = error_code(exc)
    if code in _REFUSED_CODES:
        return BAD_CREDENTIALS.format(code=code)
    if stack is not None and code == "ValidationError" and "does not exist" in str(exc):
        return (f"stack {stack!r} does not exist in this account and region: deploy "
                f"template.yaml first (`sam deploy --guided`, docs/operations.md) or give "
                f"the name of a deployed stack")
    return None
