"""make_client(): the one boto3 SWF client factory, and ClientError handled by its code at the boundary.

boto3 reads everything about where to connect by itself: AWS_ENDPOINT_URL_SWF / AWS_ENDPOINT_URL
(the embedded SWF), AWS_DEFAULT_REGION / AWS_REGION, AWS_PROFILE, credentials.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session
from botocore.exceptions import ClientError

from . import __version__
from .errors import NotFound, SwfError, UsageError

# SWF holds a poll up to 60 s: the read timeout must outlast it.
READ_TIMEOUT = 70
CONNECT_TIMEOUT = 5

TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "TooManyRequestsException", "InternalFailure", "InternalError", "InternalServerError",
    "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
    "LimitExceededFault", "LimitExceededException",  # too many pollers on a task list, for now
})

# The errors that mean "not reachable or not allowed", whatever the call.
_CONNECTION_ERRORS = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
)


# No region set: exit 2, as for an unknown one (the region is the user's setting, as config.yaml is)
_SETTINGS_ERRORS = (botocore.exceptions.NoRegionError,)


@functools.cache
def _data_loader() -> botocore.loaders.Loader:
    """botocore's data files (service models, endpoints), read once per process however many clients it makes."""
    return botocore.loaders.create_loader()


@dataclass(frozen=True)
class Target:
    """Where a client connects when boto3's own settings should not decide: the embedded SWF of this process."""

    endpoint: str
    region: str
    credentials: tuple[str, str]  # access key id, secret key


def make_client(service: str = "swf", target: Target | None = None) -> Any:
    """A boto3 client (SWF's by default; S3's for large values) with long-poll timeouts and standard retries.

    Made through botocore's session (what boto3.client does), sharing one data loader: a process that
    makes several clients (the demo, the web console) parses botocore's JSON files once, not each time.
    Where to connect, the region and the credentials come from boto3's own settings (environment, profile),
    or from `target`: no command changes os.environ to point a client somewhere.
    """
    config = botocore.config.Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard"},
        user_agent_extra=f"swfagent/{__version__}",
    )
    with boundary():
        session = botocore.session.Session()
        session.register_component("data_loader", _data_loader())
        if target is not None:
            session.set_config_variable("region", target.region)
            session.set_credentials(*target.credentials)
        region = session.get_config_variable("region")
        client = session.create_client(service, config=config, endpoint_url=target.endpoint if target else None)
        # a typo'd region would be retried for half a minute against a host that does not exist; with an endpoint
        # of its own (the embedded SWF, a proxy) the region is that endpoint's business, and it answers itself
        if region and service == "swf" and not _custom_endpoint(client) and region not in _regions(session):
            raise UsageError(f"unknown AWS region {region!r}: SWF has no such region (as botocore "
                             f"{botocore.__version__} knows them); set AWS_DEFAULT_REGION (e.g. us-east-1) or your "
                             "profile's region")
        return client


def _custom_endpoint(client: Any) -> bool:
    """True when the client was pointed at an endpoint of the user's own (AWS_ENDPOINT_URL_SWF, a profile's)."""
    return not str(client.meta.endpoint_url).endswith(".amazonaws.com") and ".amazonaws.com." not in str(
        client.meta.endpoint_url)


def _regions(session: botocore.session.Session) -> set[str]:
    return {r for p in session.get_available_partitions() for r in session.get_available_regions("swf", p)}


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or the exception's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or type(exc).__name__)
    return type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: throttling, 5xx answers, dropped connections."""
    if isinstance(exc, _CONNECTION_ERRORS):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error_code(exc) in TRANSIENT_CODES or status >= 500
    return False


def redact(text: str, token: str) -> str:
    """Text with a task token cut to its first characters: tokens never appear whole in logs."""
    return text.replace(token, token[:6] + "…") if token else text


def describe_error(exc: BaseException) -> str:
    """One line for a botocore error, with no request details (task tokens stay out of it)."""
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return "no AWS region is set: export AWS_DEFAULT_REGION (e.g. us-east-1) or use a profile with a region"
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return f"AWS profile not found: {exc.kwargs.get('profile')}"
    if isinstance(exc, _CONNECTION_ERRORS):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "")
        return f"cannot reach SWF{' at ' + endpoint if endpoint else ''}: is the endpoint up? ({type(exc).__name__})"
    if isinstance(exc, ClientError):
        code = error_code(exc)
        raw = str(exc.response.get("Error", {}).get("Message") or "")
        if raw.lstrip().startswith("<"):  # a page where SWF answers JSON: a proxy in the way
            raw = f"HTTP {exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode', '?')}, not an answer from SWF"
        message = raw.splitlines()
        text = message[0][:300] if message else ""
        if code in ("AccessDenied", "AccessDeniedException", "UnrecognizedClientException",
                    "InvalidClientTokenId", "SignatureDoesNotMatch"):
            return f"access denied by SWF ({code}): {text or 'the credentials may not do this'}"
        return f"{code}: {text}" if text else code
    if isinstance(exc, botocore.exceptions.ParamValidationError):
        return "invalid request: " + " ".join(str(exc).split())
    return " ".join(str(exc).split()) or type(exc).__name__


@contextlib.contextmanager
def boundary(not_found: str | None = None) -> Iterator[None]:
    """Turn botocore errors into SwfError (NotFound for UnknownResourceFault) with one line."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == "UnknownResourceFault":
            raise NotFound(not_found or describe_error(exc)) from None
        raise SwfError(describe_error(exc)) from None
    except _SETTINGS_ERRORS as exc:  # the user's settings, as an unknown region is: exit 2, not 1
        raise UsageError(describe_error(exc)) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise SwfError(describe_error(exc)) from None


class CallStats:
    """Counts API calls by operation, empty polls apart; attach() hooks it to a client."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.empty_polls = 0
        self.lock = threading.Lock()  # poll threads share the client

    def attach(self, client: Any) -> None:
        """Count every call this client makes, from botocore's after-call event."""
        client.meta.events.register("after-call.swf", self._after_call)

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        name = model.name
        with self.lock:
            if name.startswith("PollFor") and not parsed.get("taskToken"):
                self.empty_polls += 1
            else:
                self.calls[name] += 1

    def summary(self) -> str:
        """One line: the calls by operation and the empty polls."""
        parts = [f"{name}={count}" for name, count in sorted(self.calls.items())]
        return f"API calls: {' '.join(parts) or 'none'}; empty polls: {self.empty_polls}"
