"""/openapi.json is built from the routes, the job-type table and the pydantic models."""

from __future__ import annotations

import pytest

from api import create_app
from api.openapi import build_spec


def _operations(spec):
    return [(path, method, op) for path, item in spec["paths"].items()
            for method, op in item.items()]


def test_every_operation_has_its_views_name_as_a_unique_operation_id(api_only):
    spec = api_only.client.get("/openapi.json").json
    ids = [op["operationId"] for *_, op in _operations(spec)]
    assert len(ids) == len(set(ids))
    views = {(rule.rule.replace("<", "{").replace(">", "}"), method.lower()):
             rule.endpoint.rsplit(".", 1)[-1]
             for rule in api_only.app.url_map.iter_rules() for method in rule.methods}
    for path, method, op in _operations(spec):
        assert op["operationId"] == views[path, method], (path, method)


def test_each_job_type_has_its_input_and_result_schema(api_only):
    spec = api_only.client.get("/openapi.json").json
    schemas = spec["components"]["schemas"]
    for name, job_type in api_only.settings.job_types.items():
        assert schemas["JobInputs"]["properties"][name]["$ref"].endswith(
            "/" + job_type.input_schema.__name__)
        if job_type.result_schema is not None:
            assert schemas["JobResults"]["properties"][name]["$ref"].endswith(
                "/" + job_type.result_schema.__name__)
    assert "features" in schemas["UserProfileResult"]["required"]
    assert schemas["JobType"]["enum"] == sorted(api_only.settings.job_types)
    reads = spec["paths"]["/v1/jobs/{job_id}"]["get"]["responses"]["200"]
    assert reads["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Job"}


def test_a_route_without_a_description_stops_the_document(api_only):
    app = create_app(api_only.settings)
    app.add_url_rule("/v1/forgotten", "forgotten", lambda: "")
    with pytest.raises(LookupError, match="/v1/forgotten"):
        build_spec(app, api_only.settings.job_types)


def test_every_v1_route_sits_under_the_authenticating_blueprint(api_only):
    for rule in api_only.app.url_map.iter_rules():
        if rule.rule.startswith("/v1/"):
            assert rule.endpoint.startswith("v1."), rule.rule
            path = rule.rule.replace("<", "").replace(">", "")
            method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
            response = api_only.client.open(path, method=method)
            assert response.status_code == 401, (method, path, response.json)
