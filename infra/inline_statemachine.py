"""Write a minimal CloudFormation template holding the book state machine's definition inline,
so that cfn-lint checks the definition file against its Step Functions schema (it does not
read a SAM ``DefinitionUri`` file). Used by infra/check_template.sh; standard library only.

    python3 infra/inline_statemachine.py OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFINITION = Path(__file__).resolve().parent / "statemachine" / "score_book.asl.json"
#: Placeholder values of the template's DefinitionSubstitutions (any well-formed value).
SUBSTITUTIONS = {
    "BatchFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:batch",
    "ScoreBucket": "data-bucket",
    "ScorePrefix": "scores/",
}


def inline_template() -> dict[str, Any]:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
         "Action": "sts:AssumeRole"}]}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role",
                     "Properties": {"AssumeRolePolicyDocument": trust}},
            "BookStateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                               "StateMachineType": "STANDARD",
                               "Definition": json.loads(DEFINITION.read_text()),
                               "DefinitionSubstitutions": SUBSTITUTIONS},
            },
        },
    }


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(inline_template(), indent=2))
