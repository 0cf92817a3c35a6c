import io

from shiftwork.local.journal import Journal, Request, is_mutating


def _environ(service, method="POST", target="", query=""):
    auth = f"AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/{service}/aws4_request, SignedHeaders=host"
    return {
        "REQUEST_METHOD": method,
        "HTTP_AUTHORIZATION": auth,
        "HTTP_X_AMZ_TARGET": target,
        "QUERY_STRING": query,
        "PATH_INFO": "/",
        "wsgi.input": io.BytesIO(b""),
    }


def test_only_state_changing_requests_are_journaled():
    assert is_mutating(_environ("dynamodb", target="DynamoDB_20120810.UpdateItem"))
    assert is_mutating(_environ("dynamodb", target="DynamoDB_20120810.PutItem"))
    assert not is_mutating(_environ("dynamodb", target="DynamoDB_20120810.Query"))
    # admission and release: journaled, and serialised with every other write
    assert is_mutating(_environ("dynamodb", target="DynamoDB_20120810.TransactWriteItems"))
    assert not is_mutating(_environ("dynamodb", target="DynamoDB_20120810.TransactGetItems"))
    assert not is_mutating(_environ("dynamodb", target="DynamoDB_20120810.GetItem"))
    assert is_mutating(_environ("logs", target="Logs_20140328.PutLogEvents"))
    assert not is_mutating(_environ("logs", target="Logs_20140328.GetLogEvents"))
    assert is_mutating(_environ("s3", method="PUT"))
    assert is_mutating(_environ("s3", method="DELETE"))
    assert not is_mutating(_environ("s3", method="GET"))
    assert not is_mutating(_environ("sqs", target="AmazonSQS.SendMessage"))
    assert is_mutating(_environ("sns"), b"Action=Subscribe&TopicArn=arn&Protocol=email&Endpoint=a%40b.c")
    assert is_mutating(_environ("sns"), b"Action=Unsubscribe&SubscriptionArn=arn")
    assert not is_mutating(_environ("sns"), b"Action=Publish&TopicArn=arn&Message=hi")
    assert not is_mutating(_environ("sns"), b"Action=ListSubscriptionsByTopic&TopicArn=arn")
    assert not is_mutating(_environ("ecs", target="AmazonEC2ContainerServiceV20141113.RunTask"))


def test_records_round_trip_binary_bodies(tmp_path):
    journal = Journal(tmp_path)
    journal.open()
    request = Request("PUT", "/bucket/k", "x=1", [("X-Amz-Meta-A", "b")], bytes(range(256)))
    journal.append(request)
    journal.close()
    assert list(Journal(tmp_path).records()) == [request]


def test_a_torn_last_record_is_dropped_and_truncated(tmp_path):
    journal = Journal(tmp_path)
    journal.open()
    first = Request("PUT", "/b/1", "", [], b"one")
    journal.append(first)
    journal.close()
    with journal.path.open("ab") as handle:
        handle.write(b'{"method": "PUT", "path": "/b/2", "bo')  # the crash came mid-write
    reopened = Journal(tmp_path)
    assert list(reopened.records()) == [first]
    assert reopened.path.read_bytes() == first.to_line()


def test_snapshot_commit_starts_a_new_generation(tmp_path):
    journal = Journal(tmp_path)
    journal.open()
    journal.append(Request("PUT", "/b/1", "", [], b"one"))
    written = tmp_path / "snapshot.new"
    written.mkdir()
    journal.commit_snapshot(written)
    journal.close()
    again = Journal(tmp_path)
    assert again.generation == 1
    assert list(again.records()) == []
    assert not (tmp_path / "journal-0.jsonl").exists()


def test_a_crash_between_the_snapshot_renames_keeps_the_old_snapshot(tmp_path):
    (tmp_path / "snapshot.old").mkdir()
    (tmp_path / "snapshot.old" / "meta.json").write_text('{"generation": 3}')
    assert Journal(tmp_path).generation == 3
