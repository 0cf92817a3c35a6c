"""The Excel add-in (-c addin=MODULE): off by default; on, the module as a layer of a Lambda on /excel routes of the
stack's API that all take a Cognito user's token (no anonymous route), the Office.js files in a private
bucket behind CloudFront, the API's CORS for that distribution only. One synth with examples/pricer.py, shared by
this module; cdk-nag ran on it (synth raises on an unacknowledged finding), cfn-lint too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.conftest import build_app, synthesize
from tests.infra.test_grants import DDB_READ, DDB_WRITE, S3_READ, SQS_SEND, XRAY, _allowed_to, merged, on
from tests.infra.test_stack import CDK_GENERATED, ROOT

pytest.importorskip("aws_cdk", reason="the infra extra is not installed")
sys.path.insert(0, str(ROOT / "infra"))  # the CDK app's modules: app, shiftwork_infra

ADDIN = {"addin": "../examples/pricer.py"}  # relative to infra/, where `cdk deploy` runs
LAYER = "The Excel add-in module pricer (python/pricer.py)"


@dataclass(frozen=True)
class Synthesized:
    template: object  # aws_cdk.assertions.Template
    resources: dict
    outputs: dict
    outdir: Path

    def one(self, kind: str, **properties) -> tuple[str, dict]:
        """The logical id and properties of the one resource of `kind` whose properties include `properties`."""
        found = [
            (name, r.get("Properties", {}))
            for name, r in self.resources.items()
            if r["Type"] == kind and all(r.get("Properties", {}).get(k) == v for k, v in properties.items())
        ]
        assert len(found) == 1, f"{len(found)} {kind} with {properties}"
        return found[0]

    def function(self, handler: str) -> tuple[str, dict]:
        return self.one("AWS::Lambda::Function", Handler=f"functions.{handler}.lambda_handler")


@pytest.fixture(scope="module")
def excel(tmp_path_factory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    return Synthesized(*synthesize(ADDIN, outdir), outdir)


def test_the_default_stack_has_no_excel_addin_and_its_api_no_cors():
    """The default app built (not synthesised: cdk-nag's pass is what takes the time; test_stack synthesises it)."""
    import aws_cdk as cdk
    from aws_cdk import aws_apigatewayv2 as apigw

    _, stack = build_app({})
    kinds = [c.cfn_resource_type for c in stack.node.find_all() if isinstance(c, cdk.CfnResource)]
    addin_kinds = ("AWS::Cognito::", "AWS::CloudFront::", "AWS::Lambda::LayerVersion", "Custom::CDKBucketDeployment")
    assert [kind for kind in kinds if kind.startswith(addin_kinds)] == []
    assert stack.node.try_find_child("ExcelAddin") is None
    routes = [c.route_key for c in stack.node.find_all() if isinstance(c, apigw.CfnRoute)]
    assert routes == ["$default"]
    [api] = [c for c in stack.node.find_all() if isinstance(c, apigw.CfnApi)]
    assert api.cors_configuration is None  # and ExcelAddin, which alone overrides it, is not there
    outputs = [c.node.id for c in stack.node.children if isinstance(c, cdk.CfnOutput)]
    assert "ApiUrl" in outputs and not [name for name in outputs if name.startswith("Excel")]


def test_the_module_ships_as_an_arm64_python_layer_of_its_folders_py_files(excel):
    layer, properties = excel.one("AWS::Lambda::LayerVersion", Description=LAYER)
    assert (properties["CompatibleRuntimes"], properties["CompatibleArchitectures"]) == (["python3.12"], ["arm64"])
    _, function = excel.function("excel")
    assert {"Ref": layer} in function["Layers"]
    staged = excel.outdir / f"asset.{properties['Content']['S3Key'].removesuffix('.zip')}"
    assert sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()) == sorted(
        f"python/{p.name}" for p in (ROOT / "examples").glob("*.py")
    )
    assert (staged / "python" / "pricer.py").read_bytes() == (ROOT / "examples" / "pricer.py").read_bytes()


def test_the_function_runs_the_excel_handler_from_the_stacks_code_with_the_module_and_sign_in_settings(excel):
    api_id, api_function = excel.function("api")
    _, function = excel.function("excel")
    pool, _ = excel.one("AWS::Cognito::UserPool")
    client, _ = excel.one("AWS::Cognito::UserPoolClient")
    http_api, _ = excel.one("AWS::ApiGatewayV2::Api")
    assert function["Code"] == api_function["Code"]  # the one asset: the package and functions/
    assert (function["Runtime"], function["Architectures"], function["TracingConfig"]) == (
        "python3.12",
        ["arm64"],
        {"Mode": "Active"},
    )
    env = function["Environment"]["Variables"]
    assert {key: env[key] for key in env if key.startswith(("SHIFTWORK_ADDIN", "SHIFTWORK_EXCEL"))} == {
        "SHIFTWORK_ADDIN_MODULE": "pricer",
        "SHIFTWORK_EXCEL_AUTH": "cognito",
        "SHIFTWORK_EXCEL_USER_POOL_ID": {"Ref": pool},
        "SHIFTWORK_EXCEL_CLIENT_ID": {"Ref": client},
        "SHIFTWORK_EXCEL_API_URL": {"Fn::GetAtt": [http_api, "ApiEndpoint"]},
    }
    # what the Service needs to run definitions and read jobs and results, as the api function has it
    data = ("JOBS_TABLE", "DEFINITIONS_TABLE", "TASKS_TABLE", "BUCKET", "REGION", "DISPATCH_QUEUE_URL")
    api_env = api_function["Environment"]["Variables"]
    assert {k: env[f"SHIFTWORK_{k}"] for k in data} == {k: api_env[f"SHIFTWORK_{k}"] for k in data}
    assert env["POWERTOOLS_SERVICE_NAME"] == "shiftwork-excel"
    assert "LogGroup" in function["LoggingConfig"] and api_id != excel.function("excel")[0]


# the handler, as Lambda runs it: the stack's code on the path, the module only through its layer's python/
INVOKE = """
import json, sys
from shiftwork.local.lambdas import invoke
for path in ("/excel/config", "/excel/functions"):
    event = json.loads(sys.argv[1])
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET " + path
    response = invoke("excel", event)
    print(json.dumps([response["statusCode"], json.loads(response["body"])]))
event = json.loads(sys.argv[2])
event["body"] = json.dumps({"calls": [{"function": "PRICER.PRICE_OPTION", "args": [100, 95, 0.2, 0.01, 1]}]})
response = invoke("excel", event)
print(json.dumps([response["statusCode"], json.loads(response["body"])]))
"""


def test_the_handler_serves_the_module_from_its_layer_with_the_functions_environment(excel, tmp_path, monkeypatch):
    """functions/excel.py run with the function's environment as the template sets it (references given values)
    and only the layer's folder added to the path: it imports the module by SHIFTWORK_ADDIN_MODULE, says how to
    sign in from the SHIFTWORK_EXCEL_* settings, and computes a cell as the module does."""
    _, function = excel.function("excel")
    [layer] = function["Layers"]
    staged = excel.outdir / f"asset.{excel.resources[layer['Ref']]['Properties']['Content']['S3Key'][:-4]}"
    variables = function["Environment"]["Variables"]
    resolved = {key: value if isinstance(value, str) else f"resolved-{key.lower()}" for key, value in variables.items()}
    resolved["SHIFTWORK_REGION"] = "eu-west-2"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SHIFTWORK_", "AWS_"))},
        **resolved,
        "PYTHONPATH": os.pathsep.join([str(staged / "python"), str(ROOT)]),
    }
    events = [(ROOT / "events" / name).read_text() for name in ("api_list_jobs.json", "excel_call.json")]
    result = subprocess.run(
        [sys.executable, "-c", INVOKE, *events], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    config, functions, called = (json.loads(line) for line in result.stdout.splitlines()[-3:])
    assert config == [
        200,
        {
            "auth": "cognito",
            "region": "eu-west-2",
            "user_pool_id": "resolved-shiftwork_excel_user_pool_id",
            "client_id": "resolved-shiftwork_excel_client_id",
            "api_url": "resolved-shiftwork_excel_api_url",
        },
    ]
    assert functions[0] == 200
    assert sorted(addin["namespace"] for addin in functions[1]["addins"]) == ["PRICER", "SHIFTWORK"]
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    from pricer import price_option  # the module's own function, in this process: what the cell must show

    assert called == [200, {"results": [{"value": price_option(100, 95, 0.2, 0.01, 1), "error": None}]}]


def test_no_route_is_anonymous_the_excel_routes_take_a_cognito_token_the_rest_iam(excel):
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in excel.resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    auth = {key: route["AuthorizationType"] for key, route in routes.items()}
    assert auth == {
        "$default": "AWS_IAM",
        "GET /excel/{proxy+}": "JWT",
        "POST /excel/{proxy+}": "JWT",
    }
    assert all(kind == "AWS_IAM" for key, kind in auth.items() if "/excel" not in key)
    authorizer, properties = excel.one("AWS::ApiGatewayV2::Authorizer")
    pool, _ = excel.one("AWS::Cognito::UserPool")
    client, _ = excel.one("AWS::Cognito::UserPoolClient")
    assert properties["AuthorizerType"] == "JWT"
    assert properties["IdentitySource"] == ["$request.header.Authorization"]
    assert properties["JwtConfiguration"]["Audience"] == [{"Ref": client}]
    assert {"Ref": pool} in properties["JwtConfiguration"]["Issuer"]["Fn::Join"][1]
    assert {routes[key].get("AuthorizerId", {}).get("Ref") for key, kind in auth.items() if kind == "JWT"} == {
        authorizer
    }
    # every /excel route goes to the add-in's function, nothing else does
    function, _ = excel.function("excel")
    targets = {key: route["Target"]["Fn::Join"][1][1]["Ref"] for key, route in routes.items()}
    integrations = {k: excel.resources[v]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0] for k, v in targets.items()}
    assert {key for key, target in integrations.items() if target == function} == set(auth) - {"$default"}


def test_invited_users_only_with_a_strong_password_and_totp_and_a_browser_client_without_a_secret(excel):
    from aws_cdk.assertions import Match

    excel.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": Match.object_like({"AllowAdminCreateUserOnly": True}),
            "MfaConfiguration": "ON",
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {"MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True, "RequireSymbols": True}
                )
            },
            "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
        },
    )
    _, client = excel.one("AWS::Cognito::UserPoolClient")
    assert client.get("GenerateSecret", False) is False
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert client.get("AllowedOAuthFlowsUserPoolClient", False) is False and "CallbackURLs" not in client
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_the_files_bucket_is_private_and_only_the_distribution_reads_it_through_oac(excel):
    resources = excel.resources
    distribution, properties = excel.one("AWS::CloudFront::Distribution")
    config = properties["DistributionConfig"]
    [origin] = config["Origins"]
    files = origin["DomainName"]["Fn::GetAtt"][0]
    bucket = resources[files]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "excel-addin-files/"
    oac, _ = excel.one("AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity
    [policy] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": files}
    ]
    statements = policy["PolicyDocument"]["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"]) for s in allowed] == [
        ({"Service": "cloudfront.amazonaws.com"}, "s3:GetObject")
    ]
    assert json.dumps({"Ref": distribution}) in json.dumps(allowed[0]["Condition"])
    denied = [s for s in statements if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in denied] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_cloudfront_serves_https_only_logs_every_request_and_lets_only_office_frame_the_pages(excel):
    _, properties = excel.one("AWS::CloudFront::Distribution")
    config = properties["DistributionConfig"]
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Logging"]["Prefix"] == "excel-addin/" and "CacheBehaviors" not in config
    headers = excel.resources[behaviour["ResponseHeadersPolicyId"]["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    assert "FrameOptions" not in security  # DENY or SAMEORIGIN would keep Office from showing the task pane
    policy = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert policy.startswith("frame-ancestors 'self' ") and "https://*.officeapps.live.com" in policy
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 365 * 24 * 3600
    assert security["ContentTypeOptions"] == {"Override": True}


def test_the_api_answers_browsers_from_the_distribution_only(excel):
    distribution, _ = excel.one("AWS::CloudFront::Distribution")
    _, api = excel.one("AWS::ApiGatewayV2::Api")
    assert api["CorsConfiguration"] == {
        "AllowOrigins": [{"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]}],
        "AllowMethods": ["GET", "POST", "OPTIONS"],
        "AllowHeaders": ["authorization", "content-type"],
        "MaxAge": 3600,
    }


def test_the_files_are_deployed_with_config_json_naming_the_api_and_the_pool_then_invalidated(excel):

    distribution, _ = excel.one("AWS::CloudFront::Distribution")
    _, deployment = excel.one("Custom::CDKBucketDeployment")
    files = excel.one("AWS::CloudFront::Distribution")[1]["DistributionConfig"]["Origins"][0]["DomainName"]
    assert deployment["DestinationBucketName"] == {"Ref": files["Fn::GetAtt"][0]}
    assert (deployment["DistributionId"], deployment["DistributionPaths"]) == ({"Ref": distribution}, ["/*"])
    pool, _ = excel.one("AWS::Cognito::UserPool")
    client, _ = excel.one("AWS::Cognito::UserPoolClient")
    markers = json.dumps(deployment["SourceMarkers"])
    for reference in (
        {"Ref": pool},
        {"Ref": client},
        {"Fn::GetAtt": [excel.one("AWS::ApiGatewayV2::Api")[0], "ApiEndpoint"]},
    ):
        assert json.dumps(reference) in markers
    keys = [key.removesuffix(".zip") for key in deployment["SourceObjectKeys"]]
    staged = {p.name for key in keys for p in (excel.outdir / f"asset.{key}").iterdir()}
    assert "config.json" in staged
    metadata = json.loads((excel.outdir / "Shiftwork.metadata.json").read_text())
    warnings = [e["data"] for e in metadata.get("/Shiftwork/ExcelAddin", []) if e["type"] == "aws:cdk:warning"]
    assert warnings == [] and "addins" in staged
    # the Office.js add-in as `shiftwork excel build` makes it, its placeholder URLs the deployed ones
    built = {
        p.relative_to(folder).as_posix(): p
        for key in keys
        for folder in [excel.outdir / f"asset.{key}"]
        for p in folder.rglob("*")
        if p.is_file()
    }
    for namespace in ("pricer", "shiftwork"):
        manifest = built[f"addins/{namespace}/manifest.xml"].read_text()
        assert "<<marker:" in manifest and "shiftwork-addin-files.invalid" not in manifest
        assert f"addins/{namespace}/functions.json" in built
    from shiftwork_infra.excel_addin import API_URL, FILES_URL

    placeholders = [
        name
        for name, p in built.items()
        if p.suffix != ".png" and any(url in p.read_text(errors="ignore") for url in (API_URL, FILES_URL))
    ]
    assert placeholders == []


def test_the_outputs_name_both_manifests_the_endpoint_and_the_user_pool(excel):
    distribution, _ = excel.one("AWS::CloudFront::Distribution")
    host = {"Fn::GetAtt": [distribution, "DomainName"]}
    for output, namespace in (("ExcelManifestPricer", "pricer"), ("ExcelManifestShiftwork", "shiftwork")):
        assert excel.outputs[output]["Value"] == {
            "Fn::Join": ["", ["https://", host, f"/addins/{namespace}/manifest.xml"]]
        }
    api, _ = excel.one("AWS::ApiGatewayV2::Api")
    assert excel.outputs["ExcelEndpoint"]["Value"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [api, "ApiEndpoint"]}, "/excel"]]
    }
    assert excel.outputs["ExcelUserPool"]["Value"] == {"Ref": excel.one("AWS::Cognito::UserPool")[0]}
    assert "admin-create-user" in excel.outputs["ExcelUserPool"]["Description"]


def test_the_function_may_run_definitions_and_read_jobs_and_results_and_nothing_more(excel):
    resources = excel.resources
    hash_key = [{"AttributeName": "job_id", "KeyType": "HASH"}]
    names = {
        excel.one("AWS::DynamoDB::Table", KeySchema=hash_key)[0]: "jobs",
        excel.one("AWS::DynamoDB::Table", KeySchema=[{**hash_key[0], "AttributeName": "job_definition_id"}])[0]: (
            "definitions"
        ),
        excel.one("AWS::DynamoDB::Table", KeySchema=[*hash_key, {"AttributeName": "task_id", "KeyType": "RANGE"}])[0]: (
            "tasks"
        ),
        excel.one("AWS::S3::Bucket", VersioningConfiguration={"Status": "Enabled"})[0]: "bucket",
    }
    [queue] = [n for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]]
    names[queue] = "dispatch queue"
    _, function = excel.function("excel")
    allowed = _allowed_to(resources, names, function["Role"]["Fn::GetAtt"][0])
    assert allowed == merged(
        on({"*"}, *XRAY),
        on({"jobs", "definitions"}, *DDB_READ, *DDB_WRITE),  # a run's job, under its definition's admission slot
        on({"tasks"}, *DDB_READ),
        on({"bucket"}, *S3_READ),
        on({"dispatch queue"}, *SQS_SEND),
    )
    bucket = next(n for n, label in names.items() if label == "bucket")
    [statement] = [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": function["Role"]["Fn::GetAtt"][0]} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "s3:GetObject*" in s["Action"]
    ]
    assert statement["Resource"][1] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/jobs/*"]]}


def test_cdk_nag_passes_with_every_excel_finding_acknowledged_where_it_is_for_a_reason(excel):
    [report] = json.loads((excel.outdir / "validation-report.json").read_text())["pluginReports"]
    assert (report["pluginName"], report["conclusion"], report["violations"]) == ("AwsSolutions", "success", [])
    ours = {
        (s["ruleName"], s["acknowledgedAt"].split("/", 2)[1]): s["reason"]
        for s in report["suppressedViolations"]
        if s["acknowledgedAt"] != "Shiftwork"
        and any(
            part in v["constructPath"]
            for v in s["violatingConstructs"]
            for part in ("/ExcelAddin/", "/Custom::CDKBucketDeployment", "--excel--")
        )
    }
    deployment = next(where for _, where in ours if where.startswith("Custom::CDKBucketDeployment"))
    assert sorted(rule for rule, where in ours if where == deployment) == sorted(
        [
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "AwsSolutions-IAM5[Action::s3:List*]",
            f"AwsSolutions-IAM5[Resource::<{_files_bucket(excel)}.Arn>/*]",
            "AwsSolutions-IAM5[Resource::*]",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
            "AwsSolutions-L1",
        ]
    )
    data = excel.one("AWS::S3::Bucket", VersioningConfiguration={"Status": "Enabled"})[0]
    assert sorted(rule for rule, where in ours if where == "ExcelAddin") == [
        "AwsSolutions-CFR1",
        "AwsSolutions-CFR2",
        "AwsSolutions-CFR4",
        f"AwsSolutions-IAM5[Resource::<{data}.Arn>/jobs/*]",  # =SHIFTWORK.RESULT's reads, and only those
        "AwsSolutions-L1",
    ]
    # no route without authorization, so nothing to acknowledge for it
    assert [s for s in report["suppressedViolations"] if s["ruleName"] == "AwsSolutions-APIG4"] == []
    assert all(len(reason) > 40 for reason in ours.values())


def _files_bucket(excel: Synthesized) -> str:
    _, properties = excel.one("AWS::CloudFront::Distribution")
    return properties["DistributionConfig"]["Origins"][0]["DomainName"]["Fn::GetAtt"][0]


def test_cfn_lint_is_clean_with_the_excel_addin(excel):
    from cfnlint.api import lint
    from cfnlint.helpers import REGION_PRIMARY

    template = (excel.outdir / "Shiftwork.template.json").read_text()
    findings = [
        f"{m.rule.id} {m.message}"
        for m in lint(template, regions=[REGION_PRIMARY])
        if m.rule.id[0] in "EW" and m.rule.id not in CDK_GENERATED
    ]
    assert findings == []


@pytest.fixture
def bad_modules(tmp_path) -> dict[str, Path]:
    (tmp_path / "my-addin.py").write_text("from shiftwork.excel import Addin\naddin = Addin('Mine', 'x')\n")
    (tmp_path / "pricer.txt").write_text("not python\n")
    (tmp_path / "folder.py").mkdir()
    (tmp_path / "plain.py").write_text("def price():\n    return 1\n")
    (tmp_path / "broken.py").write_text("import no_such_module_here\n")
    (tmp_path / "clash.py").write_text(
        "from shiftwork.excel import Addin\naddin = Addin('S', 'x', namespace='SHIFTWORK')\n"
    )
    return {p.name: p for p in tmp_path.iterdir()}


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("missing.py", "there is no file"),
        ("folder.py", "is a folder, not a Python file"),
        ("pricer.txt", "pricer.txt is not a .py file"),
        (
            "my-addin.py",
            "'my-addin' cannot be imported as a module name: rename the file to a Python identifier (my_addin.py)",
        ),
        ("plain.py", "defines no Addin"),
        ("broken.py", "importing it raised ModuleNotFoundError"),
        ("clash.py", "the namespace SHIFTWORK, which the built-ins use"),
    ],
)
def test_a_bad_addin_is_refused_by_name_with_the_fix(bad_modules, tmp_path, name, says):
    import aws_cdk as cdk
    from shiftwork_infra.excel_addin_settings import addin_settings

    value = str(tmp_path / name)
    with pytest.raises(ValueError) as error:
        addin_settings(cdk.Stack(cdk.App(context={"addin": value}), "Probe"))
    message = str(error.value)
    assert message.startswith(f"context addin={value!r}: ") and says in message
    assert message.endswith(
        "pass the add-in's Python file, -c addin=../examples/pricer.py (relative to infra/, or absolute)"
    )


def test_a_bad_addin_stops_the_synth_before_anything_is_made(tmp_path):
    with pytest.raises(ValueError, match=r"^context addin='nowhere/pricer\.py': there is no file "):
        build_app({"addin": "nowhere/pricer.py"})


def test_addin_absent_or_empty_is_off_and_a_relative_path_is_taken_from_infra():
    import aws_cdk as cdk
    from shiftwork_infra.excel_addin_settings import addin_settings

    for context in ({}, {"addin": ""}, {"addin": "  "}):
        assert addin_settings(cdk.Stack(cdk.App(context=context), "Probe")) is None
    settings = addin_settings(cdk.Stack(cdk.App(context=ADDIN), "Probe"))
    assert (settings.path, settings.module, settings.namespaces) == (
        ROOT / "examples" / "pricer.py",
        "pricer",
        ("PRICER",),
    )


def test_built_files_naming_the_placeholder_urls_get_the_deployed_ones_and_the_rest_go_as_they_are(
    tmp_path, monkeypatch
):
    """The ExcelAddin construct alone in a small stack (no full synth), with `shiftwork excel build` standing in as
    a function that writes a manifest naming FILES_URL, a script naming API_URL and an icon: those two go as
    Source.data, whose markers the deployment replaces with the distribution's domain and the API's URL."""
    import types

    import aws_cdk as cdk
    from aws_cdk import aws_apigatewayv2 as apigw
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3
    from shiftwork_infra.excel_addin import ExcelAddin
    from shiftwork_infra.excel_addin_settings import addin_settings

    def build_officejs(functions: object, files_url: str, out: Path, *, api_url: str, id_seed: str) -> None:
        (out / "addins" / "pricer").mkdir(parents=True)
        (out / "addins" / "pricer" / "manifest.xml").write_text(f"<SourceLocation DefaultValue='{files_url}/a.html'/>")
        (out / "functions.js").write_text(f"const API = '{api_url}';")
        (out / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")

    stand_in = types.SimpleNamespace(build_officejs=build_officejs, OfficeJsBuildError=RuntimeError)
    monkeypatch.setitem(sys.modules, "shiftwork.excel.officejs", stand_in)
    outdir = tmp_path / "cdk.out"
    application = cdk.App(outdir=str(outdir), context=ADDIN)
    stack = cdk.Stack(application, "Probe")
    api = apigw.HttpApi(stack, "Api")
    ExcelAddin(
        stack,
        "ExcelAddin",
        settings=addin_settings(stack),
        code=lambda_.Code.from_inline("def lambda_handler(event, context): ..."),
        environment={},
        http_api=api,
        logs_bucket=s3.Bucket(stack, "Logs", enforce_ssl=True),
    )
    assembly = application.synth()
    resources = json.loads(Path(assembly.stacks[0].template_full_path).read_text())["Resources"]
    [deployment] = [r["Properties"] for r in resources.values() if r["Type"] == "Custom::CDKBucketDeployment"]
    [distribution] = [n for n, r in resources.items() if r["Type"] == "AWS::CloudFront::Distribution"]
    # each source is a zip and its markers (SourceObjectKeys and SourceMarkers, in one order)
    sources = zip(deployment["SourceObjectKeys"], deployment["SourceMarkers"], strict=True)
    staged, markers = {}, {}
    for key, its_markers in sources:
        folder = outdir / f"asset.{key.removesuffix('.zip')}"
        for path in (p for p in folder.rglob("*") if p.is_file()):
            staged[path.relative_to(folder).as_posix()] = path
            markers[path.relative_to(folder).as_posix()] = its_markers
    assert sorted(staged) == ["addins/pricer/manifest.xml", "config.json", "functions.js", "icon.png"]
    manifest, script = staged["addins/pricer/manifest.xml"].read_text(), staged["functions.js"].read_text()
    assert manifest == "<SourceLocation DefaultValue='https://<<marker:0xbaba:0>>/a.html'/>"
    assert markers["addins/pricer/manifest.xml"] == {
        "<<marker:0xbaba:0>>": {"Fn::GetAtt": [distribution, "DomainName"]}
    }
    assert script == "const API = '<<marker:0xbaba:0>>';"
    api_id = stack.get_logical_id(api.node.default_child)
    assert markers["functions.js"] == {"<<marker:0xbaba:0>>": {"Fn::GetAtt": [api_id, "ApiEndpoint"]}}
    assert markers["icon.png"] == {}
    assert staged["icon.png"].read_bytes() == b"\x89PNG\r\n\x1a\n\xff\xfe"  # binary files go untouched
