"""Networking: an existing VPC (context vpcId + subnetIds) or a small new one, and the runners' security group."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        vpc_id = self.node.try_get_context("vpcId")
        subnet_ids = [s for s in str(self.node.try_get_context("subnetIds") or "").split(",") if s]
        if vpc_id and subnet_ids:
            self.vpc: ec2.IVpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=vpc_id,
                availability_zones=["dummy"] * len(subnet_ids),
                private_subnet_ids=subnet_ids,
            )
            self.subnets = ec2.SubnetSelection(
                subnets=[ec2.Subnet.from_subnet_id(self, f"Subnet{i}", s) for i, s in enumerate(subnet_ids)]
            )
        else:
            vpc = ec2.Vpc(
                self,
                "Vpc",
                max_azs=2,
                nat_gateways=1,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                    ec2.SubnetConfiguration(
                        name="runners", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                    ),
                ],
            )
            vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                    logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH)
                ),
            )
            self.vpc = vpc
            self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.runner_security_group = ec2.SecurityGroup(
            self,
            "RunnerSecurityGroup",
            vpc=self.vpc,
            description="Shiftwork runners: no inbound, any outbound",
            allow_all_outbound=True,
        )
