"""Running a plan one call at a time over HTTP."""
from shoop_mailchimp.mailchimp.errors import MailchimpError


def execute(session, plan, log):
    """Drive ``plan.run(log)``: perform each operation it yields, send the answer back in (or throw the
    MailchimpError in), and return the Outcome it ends with. Errors the plan does not handle propagate."""
    return drive(session, plan.run(log))


def drive(session, steps):
    """Run a generator of :class:`~shoop_mailchimp.mailchimp.transport.Operation` objects over ``session``, one
    call at a time (each answer sent back in, each MailchimpError thrown in); returns what it returns. Steps a plan
    and a job share (the group kind's interest category, for Initialize) are written once, as such a generator."""
    try:
        operation = next(steps)
        while True:
            try:
                answer = session.run(operation)
            except MailchimpError as error:
                operation = steps.throw(error)
            else:
                operation = steps.send(answer)
    except StopIteration as stop:
        return stop.value
