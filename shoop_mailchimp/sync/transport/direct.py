"""Running a plan one call at a time over HTTP."""
from shoop_mailchimp.mailchimp.errors import MailchimpError


def execute(session, plan, log):
    """Drive ``plan.run(log)``: perform each operation it yields, send the answer back in (or throw the
    MailchimpError in), and return the Outcome it ends with. Errors the plan does not handle propagate."""
    steps = plan.run(log)
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
