"""The CDK app: `cdk deploy` from here creates Shiftwork in an AWS account.

Context (cdk deploy -c key=value): vpcId with subnetIds (comma-separated) to run in an existing VPC, else a small
new one; runnerImage for a prebuilt runner image URI instead of building the Dockerfile at the repository root, with
runnerKernels (comma-separated, default python3) for the Jupyter kernels that image has (a prebuilt image must
have no ENTRYPOINT: a workflow task's command override is run as given); taskFunctionMemory (MB, 128-10240, default
1769) for the Lambda executor of light workflow tasks, the most a task marked executor="lambda" may ask for;
taskFunctionConcurrency to reserve that function's concurrency (default: none reserved). dashboard=true for the
hosted dashboard, with dashboardDomain, dashboardCertificateArn and, in an existing VPC, dashboardSubnetIds
(shiftwork_infra/dashboard.py). addin=path/to/pricer.py (relative to infra/, or absolute) for an Excel add-in: the
module as a Lambda on the API's /excel routes, signed in with its own Cognito user pool, and its Office.js files
behind CloudFront (shiftwork_infra/excel_addin.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from shiftwork_infra.stack import ShiftworkStack

FEATURE_FLAGS = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,  # a bucket policy, not the legacy log-delivery ACL
}


def build(app: cdk.App) -> ShiftworkStack:
    for flag, value in FEATURE_FLAGS.items():
        app.node.set_context(flag, value)
    stack = ShiftworkStack(app, "Shiftwork")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


if __name__ == "__main__":
    application = cdk.App()
    build(application)
    application.synth()
