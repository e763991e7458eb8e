"""`audit-trail chain restart`: the operator's answer to a partition that started over."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from kafka import KafkaConsumer

from audit_trail import wiring
from audit_trail.settings import Settings
from consumers.partitions import KafkaFacts, restart_chain

app = typer.Typer(help="The trail's hash chains and their segments.")


@app.command("restart")
def restart(
    topic: Annotated[str, typer.Argument(help="The topic that started over")],
    reason: Annotated[str, typer.Option(help="Why (kept with the segment, shown by verify)")],
    partition: Annotated[
        list[int] | None, typer.Option(help="Only this partition (repeatable); default all")
    ] = None,
) -> None:
    """Start a new chain segment on each partition of TOPIC that started over (a topic
    recreated, a broker wiped, a cluster migrated), linked to the stored head. Records
    between the old head and the partition's new start that were never stored are not
    in the trail: the segment says so. Run it with the consumer stopped."""
    settings = Settings()
    trail = wiring.store(settings)
    consumer = KafkaConsumer(
        bootstrap_servers=wiring.bootstrap_servers(settings),
        group_id=None,
        enable_auto_commit=False,
        client_id="audit-trail-chain-restart",
        **wiring.kafka_config(settings),
    )
    source = KafkaFacts(consumer)
    try:
        by = getpass.getuser()
        for segment in restart_chain(trail, source, topic, partition, reason, by):
            typer.echo(
                f"{segment.topic}[{segment.partition}]: segment {segment.segment} starts at "
                f"stored offset {segment.first_offset} (Kafka offset "
                f"{segment.kafka_offset(segment.first_offset)}), linked to the head at "
                f"{segment.prev_offset}: {segment.reason}"
            )
    finally:
        source.close()
        consumer.close()
        trail.close()
