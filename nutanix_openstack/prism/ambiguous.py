"""A create whose answer was lost: find out what the cluster did.

When every attempt of a create ends in a dropped connection (the request
reached the cluster, the answer never came back), the cluster may have made
the object.  Raising ``ConnectionFailed`` then leaks it: the caller retries
with a new request and gets a second one.  So after such an *ambiguous*
failure the client:

1. sends the same create again, with the SAME ``NTNX-Request-Id``, for up
   to ``api_ambiguous_retries`` more rounds (with the usual backoff).  The
   cluster maps a request id to the task it started, so an answer to one of
   these rounds is the task of the first attempt: the object is made once
   and returned;
2. when the cluster still cannot be reached for writes, looks the object up
   by its name (the callers' names are unique: they carry the OpenStack
   id), polling as long as the cluster may still be making it, and returns
   the one it finds;
3. raises the original ``ConnectionFailed`` only when neither finds the
   object; several objects of that name are never guessed between.

A failure to connect at all (the request never left) is not ambiguous and
is raised at once, as are the cluster's own error answers.
"""

import logging
import uuid

from nutanix_openstack.prism import exceptions as exc
from nutanix_openstack.prism import tasks as tasks_mod

LOG = logging.getLogger(__name__)

REQUEST_ID_HEADER = 'NTNX-Request-Id'


class Outcome(object):
    """What a create did: a task to wait for, or the object found."""

    def __init__(self, response=None, ext_id=None, error=None):
        self.response = response
        self.ext_id = ext_id
        self.error = error

    def task_reference(self):
        """``{'extId': <task extId>}`` (for ``wait=False`` callers)."""
        if self.response is None:
            # Only the object was found: there is no task to hand back.
            raise self.error
        return {'extId': tasks_mod.task_ext_id(self.response)}

    def wait(self, tasks, rel, delete, progress_callback=None):
        """The extId of the created object (waits for its task)."""
        if self.response is None:
            if progress_callback:
                progress_callback(100)
            return self.ext_id
        return tasks.run_create(self.response, rel, delete,
                                progress_callback=progress_callback)


def post_create(session, path, body, find=None, name=None, request_id=None):
    """POST a create; on an ambiguous failure find what it made.

    ``find(name)`` lists the entities named ``name`` (``find_by_name`` of
    the collection); without it (or a name) only the resend is tried.
    ``request_id``: the NTNX-Request-Id to send (a new uuid4 by default);
    a caller passes a stable one to make its create idempotent across
    processes.  Returns an :class:`Outcome`.
    """
    headers = {REQUEST_ID_HEADER: request_id or str(uuid.uuid4())}
    try:
        return Outcome(session.post(path, body, headers=headers))
    except exc.UploadNotRetryable:
        raise
    except exc.ConnectionFailed as error:
        if not error.maybe_applied:
            raise
        LOG.warning('Create %(p)s %(n)r: every attempt ended in a dropped '
                    'connection; the cluster may have made it, asking '
                    'again with request id %(r)s',
                    {'p': path, 'n': name, 'r': error.request_id})
        return _resolve(session, path, body, headers, find, name, error)


def _resolve(session, path, body, headers, find, name, error):
    rounds = session.ambiguous_retries
    for attempt in range(rounds):
        session._sleep(session._backoff(attempt))
        try:
            return Outcome(session.post(path, body, headers=headers))
        except exc.Conflict as e:
            # "still being processed": the first attempt is running.
            LOG.debug('Resend of %(p)s: %(e)s', {'p': path, 'e': e})
        except exc.ConnectionFailed as e:
            LOG.debug('Resend of %(p)s failed again: %(e)s',
                      {'p': path, 'e': e})
    if find is None or not name:
        raise error
    for attempt in range(max(1, rounds)):
        try:
            found = find(name)
        except exc.PrismError as e:
            LOG.debug('Looking %(n)r up failed: %(e)s', {'n': name, 'e': e})
            found = []
        if len(found) == 1:
            LOG.warning('Create %(p)s %(n)r: the cluster made %(id)s before '
                        'the connection dropped; using it',
                        {'p': path, 'n': name, 'id': found[0]['extId']})
            return Outcome(ext_id=found[0]['extId'], error=error)
        if len(found) > 1:
            LOG.error('Create %(p)s %(n)r: %(c)d objects of that name after '
                      'an ambiguous failure (%(ids)s); not guessing',
                      {'p': path, 'n': name, 'c': len(found),
                       'ids': ', '.join(f['extId'] for f in found)})
            raise error
        session._sleep(session._backoff(attempt))
    raise error
