"""Tiny test harness shared by the compat suites (stdlib only, Python 3.7+).

A suite is a module that registers cases with ``@suite.case`` and ends with
``suite.main()``. Each case prints one line: ``ok``, ``FAIL`` (with what was expected
and what the client returned) or ``SKIP`` (with why). The process exits 1 when any case
failed, or when no case passed at all, so a suite can never pass vacuously.

Environment (set by compat-tests/run.sh):
  SAMSA_BOOTSTRAP   host:port of the broker under test
  SAMSA_HTTP        host:port of its HTTP server (console, /admin/ fault injection)
  SAMSA_DATA_DIR    the broker's data directory
  SAMSA_COMPAT_ONLY optional comma-separated substrings: run only matching cases
"""
import os
import signal
import sys
import time
import traceback


class Failure(Exception):
    """An assertion about the broker's behaviour did not hold."""


class Skip(Exception):
    """The case cannot run here (a client feature or module is missing)."""


def bootstrap():
    bs = os.environ.get('SAMSA_BOOTSTRAP')
    if not bs:
        print('SAMSA_BOOTSTRAP is not set: run this suite through compat-tests/run.sh', file=sys.stderr)
        sys.exit(2)
    return bs


def http_base():
    """http://host:port of the broker's HTTP server (the admin endpoint)."""
    hp = os.environ.get('SAMSA_HTTP')
    if not hp:
        raise Skip('SAMSA_HTTP is not set (run.sh sets it from the broker\'s http= line)')
    return 'http://' + hp


def broker_port():
    return int(bootstrap().rsplit(':', 1)[1])


def short(value, limit=300):
    text = repr(value)
    if len(text) > limit:
        text = text[:limit] + '... (%d chars)' % len(text)
    return text


def fail(message):
    raise Failure(message)


def check(what, condition, detail=''):
    if not condition:
        raise Failure('%s%s' % (what, (': ' + detail) if detail else ''))


def check_eq(what, expected, got):
    if expected != got:
        raise Failure('%s:\n      expected %s\n      got      %s' % (what, short(expected), short(got)))


def check_seq(what, expected, got):
    """Compares two sequences and reports the first difference (index, both items) and the lengths."""
    expected = list(expected)
    got = list(got)
    if expected == got:
        return
    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            raise Failure(
                '%s: first difference at index %d (expected %d items, got %d):\n'
                '      expected %s\n      got      %s' % (what, i, len(expected), len(got), short(e), short(g))
            )
    if len(got) < len(expected):
        raise Failure(
            '%s: expected %d items, got %d; first missing (index %d): %s'
            % (what, len(expected), len(got), len(got), short(expected[len(got)]))
        )
    raise Failure(
        '%s: expected %d items, got %d; first extra (index %d): %s'
        % (what, len(expected), len(got), len(expected), short(got[len(expected)]))
    )


def wait_until(what, predicate, timeout=15.0, interval=0.1):
    """Polls predicate() until it returns a truthy value; fails with `what` on timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise Failure('timed out after %.0fs waiting for %s (last value %s)' % (timeout, what, short(last)))


class Suite:
    def __init__(self, name):
        self.name = name
        self.cases = []

    def case(self, fn):
        self.cases.append(fn)
        return fn

    def main(self):
        # On SIGTERM (run.sh interrupted or timed out) unwind normally, so subprocess.run
        # kills a running client process and the clients close their connections.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        only = [s for s in os.environ.get('SAMSA_COMPAT_ONLY', '').split(',') if s]
        passed = failed = skipped = 0
        started = time.time()
        print('# %s (broker %s)' % (self.name, bootstrap()), flush=True)
        for fn in self.cases:
            name = fn.__name__
            if only and not any(s in name for s in only):
                continue
            t0 = time.time()
            try:
                fn()
            except Skip as e:
                skipped += 1
                print('  SKIP  %s: %s' % (name, e), flush=True)
                continue
            except Failure as e:
                failed += 1
                print('  FAIL  %s (%.1fs): %s' % (name, time.time() - t0, e), flush=True)
                continue
            except Exception:  # a client exception is a failure too, with its traceback
                failed += 1
                tb = traceback.format_exc().rstrip().replace('\n', '\n      ')
                print('  FAIL  %s (%.1fs): unexpected exception\n      %s' % (name, time.time() - t0, tb), flush=True)
                continue
            passed += 1
            print('  ok    %s (%.1fs)' % (name, time.time() - t0), flush=True)
        print(
            '# %s: %d passed, %d failed, %d skipped in %.1fs'
            % (self.name, passed, failed, skipped, time.time() - started),
            flush=True,
        )
        if failed or passed == 0:
            sys.exit(1)
        sys.exit(0)
