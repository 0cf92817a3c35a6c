"""One rule for Shiftwork's user pools (the hosted dashboard's, the Excel add-in's): an administrator adds each user
(no sign-up), passwords of 12+ characters with every kind of character, an authenticator app (TOTP) required, and
Cognito's Plus plan acting on risky sign-ins."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct


def invited_users_pool(scope: Construct, construct_id: str, *, subject: str, body: str) -> cognito.UserPool:
    """The pool; subject and body are the invitation email's ({username} and {####}, the temporary password)."""
    return cognito.UserPool(
        scope,
        construct_id,
        self_sign_up_enabled=False,
        sign_in_aliases=cognito.SignInAliases(email=True),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            temp_password_validity=cdk.Duration.days(3),
        ),
        mfa=cognito.Mfa.REQUIRED,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),  # an authenticator app: no SMS role
        # Plus: compromised-credential checks and adaptive authentication act on risky sign-ins (cdk-nag COG8)
        feature_plan=cognito.FeaturePlan.PLUS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        user_invitation=cognito.UserInvitationConfig(email_subject=subject, email_body=body),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
