"""The Excel add-in (-c addin=MODULE): Datatailr's ExcelAddin, serverless. The module runs in a Lambda (a layer puts
it on the path) behind the stack's API, on /excel/* routes that take a Cognito user's token; the Office.js files are
in a private bucket behind CloudFront, whose origin alone the API's CORS lets call it from a browser.
Its context is read (and refused by name) in excel_addin_settings.py.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge
from shiftwork_infra.excel_addin_settings import AddinSettings
from shiftwork_infra.functions import handler_function
from shiftwork_infra.user_pools import invited_users_pool

# placeholders `shiftwork excel build` writes where the deployed URLs go, replaced at deploy time (BucketDeployment
# substitutes CloudFormation values in Source.data only: the distribution's name is not known at synth)
FILES_URL = "https://shiftwork-addin-files.invalid"
API_URL = "https://shiftwork-addin-api.invalid"
# Office frames the task pane and the functions' page (Excel on the web, in Microsoft 365 and SharePoint pages, new
# Outlook, Teams); framing by anyone else is refused (clickjacking of the sign-in form). Not X-Frame-Options: it
# cannot name several ancestors, and DENY or SAMEORIGIN would keep Office from showing the pages at all
OFFICE_DOMAINS = "officeapps.live.com office.com office365.com microsoft365.com cloud.microsoft microsoft.com"
OFFICE_FRAME_ANCESTORS = " ".join(
    ["'self'", *(f"https://*.{d}" for d in f"{OFFICE_DOMAINS} sharepoint.com live.com".split())]
)


class ExcelAddin(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: AddinSettings,
        code: lambda_.Code,
        environment: dict[str, str],
        http_api: apigw.HttpApi,
        logs_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.user_pool, self.client = self._user_pool()
        self.function = self._function(code, environment, http_api)
        self._routes(http_api)
        self.bucket = self._bucket(logs_bucket)
        self.distribution = self._distribution(logs_bucket)
        self.origin = f"https://{self.distribution.distribution_domain_name}"
        _allow_origin(http_api, self.origin)
        self.deployment = self._deployment(http_api)
        self._outputs(scope, http_api)

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        """The add-in's users: added by an administrator (no sign-up), strong passwords, TOTP MFA required; the task
        pane signs in from the browser (a public client: no secret) with a password, then the TOTP code."""
        user_pool = invited_users_pool(
            self,
            "Users",
            subject="Your Shiftwork Excel add-in account",
            body="Sign in to the Shiftwork add-in's task pane as {username} with the temporary password "
            "{####}; you will choose a password and set up an authenticator app.",
        )
        client = user_pool.add_client(
            "TaskPane",
            generate_secret=False,  # the task pane is browser code: a secret in it would be no secret
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),  # refresh tokens: always allowed
            disable_o_auth=True,  # no hosted UI: InitiateAuth and RespondToAuthChallenge from the task pane
            prevent_user_existence_errors=True,
            id_token_validity=cdk.Duration.hours(1),
            access_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
        )
        return user_pool, client

    def _function(self, code: lambda_.Code, environment: dict[str, str], http_api: apigw.HttpApi) -> lambda_.Function:
        """functions/excel.py from the stack's one asset, the module from its own layer, as the other functions are
        made (functions.py): arm64, Python 3.12, its own log group, traced."""
        module = lambda_.LayerVersion(
            self,
            "Module",
            code=lambda_.Code.from_asset(str(_stage_module(self.settings.path))),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description=f"The Excel add-in module {self.settings.module} (python/{self.settings.path.name})",
        )
        return handler_function(
            self,
            "Function",
            "excel",
            code=code,
            environment={
                **environment,
                "SHIFTWORK_ADDIN_MODULE": self.settings.module,
                "SHIFTWORK_EXCEL_AUTH": "cognito",
                "SHIFTWORK_EXCEL_USER_POOL_ID": self.user_pool.user_pool_id,
                "SHIFTWORK_EXCEL_CLIENT_ID": self.client.user_pool_client_id,
                "SHIFTWORK_EXCEL_API_URL": http_api.api_endpoint,
            },
            memory_mb=1769,  # one full vCPU: the module's functions compute, most of them
            timeout_seconds=30,  # API Gateway's own limit; a stream's window is 25 s
            log_group_id="Logs",
            layers=[module],
        )

    def _routes(self, http_api: apigw.HttpApi) -> None:
        """/excel/* to the function, every route with a Cognito user's token: no anonymous route (the task pane
        reads how to sign in from config.json beside its own files, not from the API). GET and POST rather than ANY:
        an ANY route would take the browsers' CORS preflights (OPTIONS, never with a token) to the authorizer, which
        refuses them; without an OPTIONS route API Gateway answers them from its CORS settings."""
        integration = integrations.HttpLambdaIntegration("Excel", self.function)
        authorizer = authorizers.HttpUserPoolAuthorizer("ExcelUsers", self.user_pool, user_pool_clients=[self.client])
        http_api.add_routes(
            path="/excel/{proxy+}",
            methods=[apigw.HttpMethod.GET, apigw.HttpMethod.POST],
            integration=integration,
            authorizer=authorizer,
        )

    def _bucket(self, logs_bucket: s3.IBucket) -> s3.Bucket:
        """The add-in's files: private (CloudFront reads them through its origin access control), SSL only."""
        return s3.Bucket(
            self,
            "Files",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="excel-addin-files/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _distribution(self, logs_bucket: s3.IBucket) -> cloudfront.Distribution:
        """HTTPS only (HTTP redirected), security headers that let Office frame the pages, every request logged."""
        # CloudFront's standard logs are written with an ACL grant to its log-delivery account: a bucket of their own
        # that takes ACLs (the stack's access-log bucket is owner-enforced), itself logged there
        cloudfront_logs = s3.Bucket(
            self,
            "CloudFrontLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="excel-addin-cloudfront-logs/",
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(90))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Shiftwork Excel add-in files",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self._headers(),
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=cloudfront_logs,
            log_file_prefix="excel-addin/",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The distribution serves on its own *.cloudfront.net name with CloudFront's default certificate, whose "
            "minimum protocol CloudFront sets itself; a custom domain's certificate would take TLSv1.2_2021.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "The add-in's users may be anywhere the team works: no country is refused; the files are the add-in's "
            "static pages, and every call they make is authenticated by the API.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "Static add-in files only (no data, nothing computed): a web ACL (us-east-1 only, billed per request) "
            "would guard nothing the API's Cognito authorizer does not; the API itself is not behind CloudFront.",
        )
        return distribution

    def _headers(self) -> cloudfront.ResponseHeadersPolicy:
        """HSTS, nosniff, a strict referrer, and framing by Office's hosts only (see OFFICE_FRAME_ANCESTORS)."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="Shiftwork Excel add-in: security headers; framed by Office only",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(365), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=f"frame-ancestors {OFFICE_FRAME_ANCESTORS}", override=True
                ),
            ),
        )

    def _deployment(self, http_api: apigw.HttpApi) -> s3_deployment.BucketDeployment:
        """The built Office.js files, with the deployed URLs put in, and config.json (where the API is)."""
        replacements = {FILES_URL: self.origin, API_URL: http_api.api_endpoint}
        sources = [
            s3_deployment.Source.json_data(
                "config.json",
                {
                    "api_url": http_api.api_endpoint,
                    "auth": "cognito",
                    "region": cdk.Stack.of(self).region,
                    "user_pool_id": self.user_pool.user_pool_id,
                    "client_id": self.client.user_pool_client_id,
                },
            ),
            *self._built_files(replacements),
        ]
        deployment = s3_deployment.BucketDeployment(
            self,
            "Deploy",
            destination_bucket=self.bucket,
            sources=sources,
            distribution=self.distribution,  # a new build is served at once, not after the cache's TTL
            distribution_paths=["/*"],
            memory_limit=256,
        )
        _acknowledge_deployment(deployment, self.bucket)
        return deployment

    def _built_files(self, replacements: dict[str, str]) -> list[s3_deployment.ISource]:
        """`shiftwork excel build`'s files for the module (shiftwork.excel.officejs.build_officejs); a file naming a
        placeholder URL goes as Source.data, where the deploy puts the real one in."""
        from shiftwork.api.excel import shiftwork_addin
        from shiftwork.excel.loading import load_addins
        from shiftwork.excel.officejs import OfficeJsBuildError, build_officejs
        from shiftwork.excel.protocol import Registry

        functions = Registry([*load_addins(str(self.settings.path)), shiftwork_addin(None)]).describe()
        folder = Path(tempfile.mkdtemp(prefix="shiftwork-excel-files-"))
        try:
            # the deployed manifests' Ids differ from a local `excel serve`'s: both can be sideloaded at once
            build_officejs(functions, FILES_URL, folder, api_url=API_URL, id_seed=cdk.Stack.of(self).stack_name)
        except OfficeJsBuildError as error:
            raise ValueError(f"context addin: the Office.js add-in cannot be built: {error}") from None
        templated: list[s3_deployment.ISource] = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            text = _text(path)
            if text is None or not any(placeholder in text for placeholder in replacements):
                continue
            for placeholder, value in replacements.items():
                text = text.replace(placeholder, value)
            templated.append(s3_deployment.Source.data(path.relative_to(folder).as_posix(), text))
            path.unlink()
        return [s3_deployment.Source.asset(str(folder)), *templated]

    def _outputs(self, scope: Construct, http_api: apigw.HttpApi) -> None:
        """The manifests to sideload or publish, the endpoint the clients call, where the users are added."""
        host = self.distribution.distribution_domain_name
        for namespace in (*self.settings.namespaces, "SHIFTWORK"):
            cdk.CfnOutput(
                scope,
                f"ExcelManifest{''.join(c for c in namespace.title() if c.isalnum())}",
                value=f"https://{host}/addins/{namespace.lower()}/manifest.xml",
                description=f"the {namespace} add-in's manifest: sideload it, or add it in the Microsoft 365 admin "
                "center (Integrated apps)",
            )
        cdk.CfnOutput(scope, "ExcelEndpoint", value=f"{http_api.api_endpoint}/excel")
        cdk.CfnOutput(
            scope,
            "ExcelUserPool",
            value=self.user_pool.user_pool_id,
            description="add the add-in's users here (aws cognito-idp admin-create-user): no one can sign up",
        )
        cdk.CfnOutput(scope, "ExcelUserPoolClient", value=self.client.user_pool_client_id)


def _stage_module(module: Path) -> Path:
    """A layer's folder: python/<stem>.py and the .py files beside it (which it may import: `shiftwork excel serve`
    puts its folder first on the path, and the layer's python/ is on the function's), nothing else."""
    folder = Path(tempfile.mkdtemp(prefix="shiftwork-excel-layer-")) / "python"
    folder.mkdir()
    for path in sorted(module.parent.glob("*.py")):
        shutil.copy2(path, folder / path.name)
    return folder.parent


def _allow_origin(http_api: apigw.HttpApi, origin: str) -> None:
    """The API's CORS: the distribution's origin only. HttpApi takes CORS when it is made, before this distribution
    exists (the API is the stack's, the distribution this construct's): set on its CfnApi now that both do. No
    cycle: the API refers to the distribution, which refers to its bucket only."""
    http_api.node.default_child.add_property_override(  # type: ignore[union-attr]
        "CorsConfiguration",
        {
            "AllowOrigins": [origin],
            "AllowMethods": ["GET", "POST", "OPTIONS"],
            "AllowHeaders": ["authorization", "content-type"],
            "MaxAge": 3600,
        },
    )


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # an image: no URL in it


def _acknowledge_deployment(deployment: s3_deployment.BucketDeployment, bucket: s3.Bucket) -> None:
    """CDK's BucketDeployment handler: a Lambda it makes at the stack's top level, with its runtime and its role."""
    stack = cdk.Stack.of(deployment)
    acknowledge(
        deployment.handler_role.node.scope,  # type: ignore[arg-type]
        "AwsSolutions-L1",
        "CDK's own BucketDeployment handler, whose runtime aws-cdk-lib pins (it runs the AWS CLI it bundles); it "
        "runs at deploy time only, copying the add-in's files.",
    )
    logical = stack.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
    acknowledge(
        deployment.handler_role,
        f"AwsSolutions-IAM5[Resource::<{logical}.Arn>/*]",
        "The deployment writes and prunes the add-in's files: every object of the add-in's own bucket, only that.",
    )
    acknowledge(
        deployment.handler_role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
        "The deployment reads the files' zip from CDK's bootstrap assets bucket of this account and region, where "
        "`cdk deploy` uploaded it (the asset's key is known at deploy time only).",
    )
    acknowledge(
        deployment.handler_role,
        "AwsSolutions-IAM5[Resource::*]",
        "cloudfront:CreateInvalidation and GetInvalidation, which CDK grants its deployment handler on any "
        "distribution: it invalidates the add-in's own after copying a new build",
    )
    for action in ("GetObject*", "GetBucket*", "List*", "DeleteObject*", "Abort*"):
        acknowledge(
            deployment.handler_role,
            f"AwsSolutions-IAM5[Action::s3:{action}]",
            "CDK's grants to its deployment handler, on the assets bucket (read) and the add-in's own bucket (its "
            "files copied, and the ones a new build no longer has deleted)",
        )
