"""kafka-python KafkaAdminClient config administration against a real Samsa broker:
describe_configs of a topic (with synonyms) and of the broker, alter_configs of a topic
(accepted, and refused with Kafka's error for a bad value).

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP). Debian's /usr/bin/python3.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, check, check_eq, bootstrap  # noqa: E402

import kafka  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic, ConfigResource, ConfigResourceType  # noqa: E402

BS = bootstrap()
suite = Suite('kafka-python %s configs' % kafka.__version__)
API_VERSION = tuple(int(x) for x in os.environ['SAMSA_KAFKA_PYTHON_API_VERSION'].split('.')) if os.environ.get('SAMSA_KAFKA_PYTHON_API_VERSION') else None

_admin = None


def admin():
    global _admin
    if _admin is None:
        kw = {'bootstrap_servers': BS, 'client_id': 'samsa-compat-configs'}
        if API_VERSION:
            kw['api_version'] = API_VERSION
        _admin = KafkaAdminClient(**kw)
    return _admin


def entries(response):
    """DescribeConfigsResponse -> {name: (value, read_only, source or is_default, synonyms)} of its one resource."""
    resource = response.resources[0]
    check_eq('resource error code', 0, resource[0])
    return {e[0]: e for e in resource[4]}


@suite.case
def describe_topic_configs_with_synonyms():
    admin().create_topics([NewTopic('kp-describe', 1, 1, topic_configs={'retention.ms': '120000'})])
    [resp] = admin().describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'kp-describe')], include_synonyms=True)
    cfg = entries(resp)
    check_eq('retention.ms value', '120000', cfg['retention.ms'][1])
    check_eq('retention.ms source (DYNAMIC_TOPIC_CONFIG)', 1, cfg['retention.ms'][3])
    check_eq('cleanup.policy value', 'delete', cfg['cleanup.policy'][1])
    check_eq('cleanup.policy source (DEFAULT_CONFIG)', 5, cfg['cleanup.policy'][3])
    synonyms = [s[0] for s in cfg['retention.ms'][5]]
    # As Kafka: broker synonyms start at log.retention.ms (unset), so log.retention.hours is not listed.
    check_eq('retention.ms synonyms', ['retention.ms'], synonyms)
    check_eq('cleanup.policy synonyms', ['log.cleanup.policy'], [s[0] for s in cfg['cleanup.policy'][5]])


@suite.case
def describe_broker_configs():
    [resp] = admin().describe_configs([ConfigResource(ConfigResourceType.BROKER, '1')])
    cfg = entries(resp)
    check_eq('node.id', '1', cfg['node.id'][1])
    check('node.id read-only', cfg['node.id'][2])
    check('log.retention.ms dynamic', not cfg['log.retention.ms'][2])


@suite.case
def alter_topic_configs():
    resp = admin().alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'kp-describe', configs={'retention.ms': '60000', 'cleanup.policy': 'compact'})])
    check_eq('alter error code', 0, resp.resources[0][0])
    [d] = admin().describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'kp-describe')])
    cfg = entries(d)
    check_eq('retention.ms', '60000', cfg['retention.ms'][1])
    check_eq('cleanup.policy', 'compact', cfg['cleanup.policy'][1])
    bad = admin().alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'kp-describe', configs={'segment.bytes': 'big'})])
    check_eq('bad value error code (INVALID_CONFIG)', 40, bad.resources[0][0])


if __name__ == '__main__':
    suite.main()
