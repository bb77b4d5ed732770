"""No query or form value makes the web console answer 5xx: every route, every parameter it reads, any text."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swfagent.config import Config
from swfagent.web.app import create_app
from tests.e2e import register_and_start
from tests.support import Server

ROUTES = [("GET", "/"), ("GET", "/execution"), ("GET", "/start"), ("POST", "/start"), ("GET", "/action"),
          ("POST", "/action"), ("GET", "/types"), ("GET", "/login"), ("POST", "/login")]
PARAMS = ["which", "since", "oldest", "workflow_id", "page", "tab", "run_id", "said", "do", "signal_name", "input",
          "reason", "id_template", "next", "token"]
# the parameters each route reads (the random test sends any to any route)
READS = {"/": ["which", "since", "oldest", "workflow_id", "page"], "/execution": ["workflow_id", "tab", "run_id", "said"],
         "/start": ["workflow_id", "id_template", "input"], "/types": [], "/login": ["next", "token"],
         "/action": ["do", "workflow_id", "run_id", "reason", "signal_name", "input"]}
# what a person or a page could send: text of any kind, and the shapes that broke things before
ODD = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "{date:>999999999999}", "{uuid!r}",
       "999999999999999999999d", "-1h", "all", "open", "closed", "FAILED", "events", "activities", "signal", "cancel",
       "terminate", "\x00", "a" * 300, "%", "{", "}", "../..", "Demo", "", " "]
VALUES = st.one_of(st.text(max_size=60), st.sampled_from(ODD))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # examples: the profile's (make fuzz: more)
@given(route=st.sampled_from(ROUTES), params=st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=5))
def test_no_value_gives_a_5xx(server: Server, demo_config: Config, route: tuple[str, str],
                              params: dict[str, Any]) -> None:
    client = server.client()
    if not client.list_domains(registrationStatus="REGISTERED")["domainInfos"]:
        register_and_start(server, demo_config, "Demo")  # so that 'Demo' names an execution whose pages are read for real
    browser = create_app(client, demo_config, hosts=frozenset({"localhost"})).test_client()
    method, path = route
    if method == "GET":
        answer = browser.get(path, query_string=params)
    else:
        page = browser.get("/login" if path == "/login" else "/start").get_data(as_text=True)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        answer = browser.post(path, data={**params, "csrf": csrf.group(1) if csrf else ""})
    assert answer.status_code < 500, (route, params, answer.get_data(as_text=True)[-500:])


def test_the_values_that_crashed_are_a_400(server: Server, demo_config: Config) -> None:
    register_and_start(server, demo_config)
    browser = create_app(server.client(), demo_config, hosts=frozenset({"localhost"})).test_client()
    assert browser.get("/", query_string={"oldest": "0001-01-01T00:00:00+14:00"}).status_code == 400  # was OverflowError
    page = browser.get("/start").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    for template in ("{date:>999999999999}", "{date:>300000000}", "{date!r}", "{nope}", "{0}"):  # MemoryError, 300 MB
        answer = browser.post("/start", data={"csrf": csrf, "id_template": template})
        assert answer.status_code == 400 and "is not a field it fills" in answer.get_data(as_text=True), template


def test_every_parameter_with_every_odd_value(server: Server, demo_config: Config) -> None:
    """The sweep the random test samples: each route, each parameter, each value that broke something before."""
    register_and_start(server, demo_config, "Demo")
    browser = create_app(server.client(), demo_config, hosts=frozenset({"localhost"})).test_client()
    page = browser.get("/start").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    for method, path in ROUTES:
        for name in READS[path]:
            for value in ODD:
                params = {"workflow_id": "Demo", "do": "signal", name: value}
                answer = (browser.get(path, query_string=params) if method == "GET"
                          else browser.post(path, data={**params, "csrf": csrf}))
                assert answer.status_code < 500, (method, path, params)
