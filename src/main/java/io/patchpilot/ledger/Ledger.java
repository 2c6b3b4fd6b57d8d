package io.patchpilot.ledger;

import io.patchpilot.aws.AwsActions;
import io.patchpilot.aws.AwsClients;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DeleteRequest;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * The run ledger: one DynamoDB table (pk, sk) holding windows, runs, results and audit records.
 * State lives here, not in the JVM, so any replica can continue any work.
 */
public final class Ledger {
    private static final int BATCH_WRITE_LIMIT = 25;
    private final AwsClients aws;
    private final String table;

    public Ledger(AwsClients aws, String table) {
        this.aws = aws;
        this.table = table;
    }

    /** Writes items in batches of 25, retrying what DynamoDB leaves unprocessed. */
    public void putAll(List<Map<String, AttributeValue>> items) {
        writeAll(items, List.of());
    }

    /** Writes items and deletes keys ({@code pk}, {@code sk}) in batches of 25, retrying what DynamoDB leaves unprocessed. */
    @AwsActions(value = "dynamodb:BatchWriteItem", principal = AwsActions.Principal.HUB)
    public void writeAll(List<Map<String, AttributeValue>> items, List<Map<String, AttributeValue>> deleteKeys) {
        DynamoDbClient ddb = aws.hub(DynamoDbClient.class);
        List<WriteRequest> all = new ArrayList<>();
        for (Map<String, AttributeValue> item : items)
            all.add(WriteRequest.builder()
                    .putRequest(PutRequest.builder().item(item).build())
                    .build());
        for (Map<String, AttributeValue> key : deleteKeys) {
            all.add(WriteRequest.builder()
                    .deleteRequest(DeleteRequest.builder().key(key).build())
                    .build());
        }
        for (int i = 0; i < all.size(); i += BATCH_WRITE_LIMIT) {
            List<WriteRequest> writes = all.subList(i, Math.min(all.size(), i + BATCH_WRITE_LIMIT));
            Map<String, List<WriteRequest>> pending = Map.of(table, writes);
            for (int attempt = 0;
                    !pending.isEmpty()
                            && !pending.getOrDefault(table, List.of()).isEmpty();
                    attempt++) {
                if (attempt == 8)
                    throw new IllegalStateException(
                            "DynamoDB left " + pending.get(table).size() + " ledger writes unprocessed");
                Map<String, List<WriteRequest>> request = pending;
                BatchWriteItemResponse r = ddb.batchWriteItem(b -> b.requestItems(request));
                pending = r.unprocessedItems() == null ? Map.of() : r.unprocessedItems();
            }
        }
    }

    @AwsActions(value = "dynamodb:PutItem", principal = AwsActions.Principal.HUB)
    public void put(Map<String, AttributeValue> item) {
        aws.hub(DynamoDbClient.class).putItem(r -> r.tableName(table).item(item));
    }

    /** Writes the item unless one with its key exists; false when it existed (another writer won). */
    @AwsActions(value = "dynamodb:PutItem", principal = AwsActions.Principal.HUB)
    public boolean putIfAbsent(Map<String, AttributeValue> item) {
        try {
            aws.hub(DynamoDbClient.class)
                    .putItem(r -> r.tableName(table).item(item).conditionExpression("attribute_not_exists(pk)"));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        }
    }

    @AwsActions(value = "dynamodb:GetItem", principal = AwsActions.Principal.HUB)
    public Optional<Map<String, AttributeValue>> get(String pk, String sk) {
        Map<String, AttributeValue> item = aws.hub(DynamoDbClient.class)
                .getItem(r -> r.tableName(table).key(item(pk, sk)).consistentRead(true))
                .item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(item);
    }

    @AwsActions(value = "dynamodb:DeleteItem", principal = AwsActions.Principal.HUB)
    public boolean delete(String pk, String sk) {
        Map<String, AttributeValue> old = aws.hub(DynamoDbClient.class)
                .deleteItem(r -> r.tableName(table).key(item(pk, sk)).returnValues(ReturnValue.ALL_OLD))
                .attributes();
        return old != null && !old.isEmpty();
    }

    /** Adds {@code by} to a number attribute atomically; returns the new value. */
    @AwsActions(value = "dynamodb:UpdateItem", principal = AwsActions.Principal.HUB)
    public long increment(String pk, String sk, String attribute, long by) {
        return Long.parseLong(aws.hub(DynamoDbClient.class)
                .updateItem(r -> r.tableName(table)
                        .key(item(pk, sk))
                        .updateExpression("ADD #a :by")
                        .expressionAttributeNames(Map.of("#a", attribute))
                        .expressionAttributeValues(Map.of(":by", AttributeValue.fromN(Long.toString(by))))
                        .returnValues(ReturnValue.UPDATED_NEW))
                .attributes()
                .get(attribute)
                .n());
    }

    /** {@code SET #n0 = :v0, …} for the values, their names and values added to the maps given. */
    private static String setExpression(
            Map<String, AttributeValue> values, Map<String, String> names, Map<String, AttributeValue> vals) {
        List<String> sets = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, AttributeValue> e : values.entrySet()) {
            names.put("#n" + i, e.getKey());
            vals.put(":v" + i, e.getValue());
            sets.add("#n" + i + " = :v" + i);
            i++;
        }
        return "SET " + String.join(", ", sets);
    }

    /**
     * In one transaction: sets attributes of one item if {@code condition} holds, and adds 1 to a
     * counter of another (a step's outcome and its run's count never part, whatever crashes).
     * False when the condition did not hold (nothing changed).
     */
    @AwsActions(value = "dynamodb:UpdateItem", principal = AwsActions.Principal.HUB)
    public boolean setIfAndCount(
            String pk,
            String sk,
            Map<String, AttributeValue> values,
            String condition,
            Map<String, String> conditionNames,
            Map<String, AttributeValue> conditionValues,
            String counterSk,
            String counter) {
        return changeBothIf(
                pk,
                sk,
                new Change(values, List.of(), Map.of()),
                condition,
                conditionNames,
                conditionValues,
                counterSk,
                new Change(Map.of(), List.of(), Map.of(counter, 1L)));
    }

    /** One item's change: attributes set, attributes removed, numbers added to (each may be empty). */
    public record Change(Map<String, AttributeValue> set, List<String> remove, Map<String, Long> add) {
        /** {@code SET … REMOVE … ADD …}, its names and values added to the maps given. */
        String expression(Map<String, String> names, Map<String, AttributeValue> vals) {
            List<String> clauses = new ArrayList<>();
            if (!set.isEmpty()) clauses.add(setExpression(set, names, vals));
            List<String> removed = new ArrayList<>();
            for (String a : remove) {
                names.put("#r" + removed.size(), a);
                removed.add("#r" + removed.size());
            }
            if (!removed.isEmpty()) clauses.add("REMOVE " + String.join(", ", removed));
            List<String> added = new ArrayList<>();
            for (Map.Entry<String, Long> e : add.entrySet()) {
                names.put("#a" + added.size(), e.getKey());
                vals.put(":a" + added.size(), AttributeValue.fromN(Long.toString(e.getValue())));
                added.add("#a" + added.size() + " :a" + added.size());
            }
            if (!added.isEmpty()) clauses.add("ADD " + String.join(", ", added));
            return String.join(" ", clauses);
        }
    }

    /**
     * In one transaction: changes one item if {@code condition} holds, and another item of the same
     * partition unconditionally (a step reopened and its run's counts never part). False when the
     * condition did not hold (nothing changed).
     */
    @AwsActions(value = "dynamodb:UpdateItem", principal = AwsActions.Principal.HUB)
    public boolean changeBothIf(
            String pk,
            String sk,
            Change change,
            String condition,
            Map<String, String> conditionNames,
            Map<String, AttributeValue> conditionValues,
            String otherSk,
            Change other) {
        Map<String, String> names = new HashMap<>(conditionNames);
        Map<String, AttributeValue> vals = new HashMap<>(conditionValues);
        String first = change.expression(names, vals);
        Map<String, String> otherNames = new HashMap<>();
        Map<String, AttributeValue> otherVals = new HashMap<>();
        String second = other.expression(otherNames, otherVals);
        try {
            aws.hub(DynamoDbClient.class)
                    .transactWriteItems(t -> t.transactItems(
                            TransactWriteItem.builder()
                                    .update(u -> u.tableName(table)
                                            .key(item(pk, sk))
                                            .updateExpression(first)
                                            .conditionExpression(condition)
                                            .expressionAttributeNames(names)
                                            .expressionAttributeValues(vals))
                                    .build(),
                            TransactWriteItem.builder()
                                    .update(u -> {
                                        u.tableName(table)
                                                .key(item(pk, otherSk))
                                                .updateExpression(second)
                                                .expressionAttributeNames(otherNames);
                                        if (!otherVals.isEmpty()) u.expressionAttributeValues(otherVals);
                                    })
                                    .build()));
            return true;
        } catch (TransactionCanceledException e) {
            if (e.cancellationReasons().stream().anyMatch(r -> "ConditionalCheckFailed".equals(r.code()))) return false;
            throw e;
        }
    }

    /**
     * Sets attributes only if {@code condition} holds (names in it as {@code #x} placeholders, e.g.
     * {@code #st} for the reserved word status); false when it did not.
     */
    @AwsActions(value = "dynamodb:UpdateItem", principal = AwsActions.Principal.HUB)
    public boolean setIf(
            String pk,
            String sk,
            Map<String, AttributeValue> values,
            String condition,
            Map<String, String> conditionNames,
            Map<String, AttributeValue> conditionValues) {
        Map<String, String> names = new HashMap<>(conditionNames);
        Map<String, AttributeValue> vals = new HashMap<>(conditionValues);
        String set = setExpression(values, names, vals);
        try {
            aws.hub(DynamoDbClient.class).updateItem(r -> {
                r.tableName(table)
                        .key(item(pk, sk))
                        .updateExpression(set)
                        .expressionAttributeNames(names)
                        .expressionAttributeValues(vals);
                if (condition != null) r.conditionExpression(condition);
            });
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        }
    }

    /** Every item of one partition, in sort-key order. */
    @AwsActions(value = "dynamodb:Query", principal = AwsActions.Principal.HUB)
    public List<Map<String, AttributeValue>> partition(String pk) {
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        QueryRequest q = QueryRequest.builder()
                .tableName(table)
                .keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s(pk)))
                .build();
        aws.hub(DynamoDbClient.class).queryPaginator(q).items().forEach(out::add);
        return out;
    }

    /** The items of one partition whose sort key is between {@code from} and {@code to} (both included), in order. */
    @AwsActions(value = "dynamodb:Query", principal = AwsActions.Principal.HUB)
    public List<Map<String, AttributeValue>> between(String pk, String from, String to) {
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        QueryRequest q = QueryRequest.builder()
                .tableName(table)
                .keyConditionExpression("pk = :pk AND sk BETWEEN :from AND :to")
                .expressionAttributeValues(Map.of(":pk", s(pk), ":from", s(from), ":to", s(to)))
                .build();
        aws.hub(DynamoDbClient.class).queryPaginator(q).items().forEach(out::add);
        return out;
    }

    /** The string attribute {@code key} of an item, or "" when it has none. */
    public static String text(Map<String, AttributeValue> item, String key) {
        AttributeValue v = item.get(key);
        return v != null && v.s() != null ? v.s() : "";
    }

    public static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    public static Map<String, AttributeValue> item(String pk, String sk) {
        Map<String, AttributeValue> m = new HashMap<>();
        m.put("pk", s(pk));
        m.put("sk", s(sk));
        return m;
    }
}
