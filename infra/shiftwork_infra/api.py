"""API: an HTTP API in front of the api function, IAM-authorised on every route (no anonymous route)."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shiftwork_infra.acknowledge import acknowledge


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigw.HttpApi(
            self,
            "Http",
            default_integration=integrations.HttpLambdaIntegration("Api", function),
            default_authorizer=authorizers.HttpIamAuthorizer(),
        )
        acknowledge(
            self.http_api,
            "AwsSolutions-APIG1",
            "Requests are logged by the api function (Powertools, with correlation ids).",
        )
