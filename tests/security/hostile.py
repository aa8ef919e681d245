"""Text an attacker controls: as a customer (names, e-mail), as staff (group names) or as Mailchimp (error details).

Each payload calls ``alert`` when it runs, so a browser test that fails on any dialog catches it.
"""
#: Valid to Django's EmailValidator (a quoted local part); ``</script>`` ends any script it is written into.
SCRIPT_BREAKING_EMAIL = '"</script><script>alert(1)</script>"@fastmail.com'
FIRST_NAME = "<img src=x onerror=alert(2)>"
LAST_NAME = "</script><svg onload=alert(3)>"
GROUP_NAME = "<script>alert(4)</script>"
MAILCHIMP_DETAIL = "</script><script>alert(5)</script><img src=x onerror=alert(6)> looks fake or invalid"
