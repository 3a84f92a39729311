"""Context managers as decorators, the way PyTorch's grad and anomaly modes decorate: each call
gets a fresh context, and a generator function runs in it each time it resumes (the caller's
state is back at every `yield`)."""

import functools
import inspect


def decorate(func, context):
    """`func` running inside `context()` (a new context manager per call or resumption)."""
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def generator(*args, **kwargs):
            return (yield from _resumed_in(func(*args, **kwargs), context))

        return generator

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # a context per call, so recursive and concurrent calls each restore their own state
        with context():
            return func(*args, **kwargs)

    return wrapper


def _resumed_in(gen, context):
    """Drive generator `gen`, each of its steps inside `context()`; return its return value."""
    try:
        with context():
            item = next(gen)
        while True:
            try:
                value = yield item
            except GeneratorExit:
                with context():
                    gen.close()
                raise
            except BaseException as error:  # thrown in by our caller: pass it on
                with context():
                    item = gen.throw(error)
            else:
                with context():
                    item = gen.send(value)
    except StopIteration as stop:
        return stop.value
