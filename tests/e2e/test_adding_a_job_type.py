"""The README's "Adding a job type" example is the code the tests run, and it works: one
declaration and one family, through the real API and a real worker."""

from __future__ import annotations

import re

from tests.support.processes import ROOT


def test_the_readme_shows_the_example_the_tests_run():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Adding a job type\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    source = (ROOT / "tests" / "support" / "echo.py").read_text()
    assert len(blocks) == 2
    assert all(block in source for block in blocks)


def test_an_echo_job_is_validated_documented_and_run(stack):
    job = stack.run("echo", {"text": "hello"}, timeout=60)
    assert job["status"] == "succeeded" and job["result"] == {"echo": "hello"}
    refused = stack.submit("echo", {"text": ""})
    assert refused.status_code == 422
    assert refused.json["error"]["details"][0]["path"] == "input.text"
    schemas = stack.client.get("/openapi.json").json["components"]["schemas"]
    assert schemas["JobInputs"]["properties"]["echo"] == {"$ref": "#/components/schemas/EchoInput"}
    assert schemas["JobResults"]["properties"]["echo"] == {
        "$ref": "#/components/schemas/EchoResult"}
