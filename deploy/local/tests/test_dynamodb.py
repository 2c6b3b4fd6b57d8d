"""Conditional writes are atomic: of many concurrent updates with the same condition, one wins."""
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError


def test_concurrent_conditional_updates_of_one_item_let_exactly_one_win(aws):
    ddb = aws.client("dynamodb")
    ddb.create_table(TableName="race", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    rounds, threads = 150, 16
    for r in range(rounds):
        ddb.put_item(TableName="race", Item={"pk": {"S": f"item-{r}"}, "st": {"S": "Sent"}, "done": {"N": "0"}})

    def finish(r):
        try:
            ddb.update_item(TableName="race", Key={"pk": {"S": f"item-{r}"}}, UpdateExpression="SET #st = :done ADD #d :one",
                            ConditionExpression="#st IN (:discovering, :sent)",
                            ExpressionAttributeNames={"#st": "st", "#d": "done"},
                            ExpressionAttributeValues={":done": {"S": "Done"}, ":one": {"N": "1"},
                                                       ":discovering": {"S": "Discovering"}, ":sent": {"S": "Sent"}})
            return 1
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return 0

    with ThreadPoolExecutor(threads) as pool:
        for r in range(rounds):
            assert sum(pool.map(finish, [r] * threads)) == 1, f"round {r}"
            assert ddb.get_item(TableName="race", Key={"pk": {"S": f"item-{r}"}})["Item"]["done"]["N"] == "1"
