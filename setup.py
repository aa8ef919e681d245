import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return handle.read()


setup(
    name="shoop-mailchimp",
    version="0.1.0",
    description="Keeps a Shuup (formerly Shoop) shop's contacts and groups in sync with Mailchimp",
    long_description=read("README.rst"),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    packages=find_packages(include=["shoop_mailchimp", "shoop_mailchimp.*"]),
    # Templates and the emulator's OpenAPI description: what MANIFEST.in lists under shoop_mailchimp/.
    include_package_data=True,
    zip_safe=False,
    python_requires=">=3.8,<3.9",
    install_requires=[
        "shuup>=3.1,<3.2",
        "mailchimp3>=3.0.21,<4",
        "requests>=2.20",
        "urllib3>=1.26",
        # IDNA 2008 / UTS 46 for the domains of e-mail addresses (members.ascii_domain); 3.7 fixed the quadratic
        # time on crafted long input (CVE-2024-3651), and the addresses are typed by anybody.
        "idna>=3.7,<4",
        # Fernet for the API key at rest; HKDF without a backend argument needs 3.1.
        "cryptography>=3.1",
    ],
    extras_require={
        # What the emulator imports beyond the app's own dependencies: the request validator.
        "emulator": ["openapi-schema-validator==0.6.2"],
        "celery": ["celery>=5.2,<6", "redis>=4"],
        "test": [
            "pytest",
            "pytest-django",
            "pytest-timeout",
            "pytest-xdist",
            "hypothesis",
            "playwright==1.48.0",
            "psycopg2-binary<2.9",
            "celery>=5.2,<6",
            "redis>=4",
            "openapi-schema-validator==0.6.2",
            "ruff",
            "build==1.2.2.post1",
        ],
    },
    entry_points={"shuup.addon": ["shoop_mailchimp = shoop_mailchimp"]},
    classifiers=[
        "Framework :: Django",
        "Framework :: Django :: 2.2",
        "License :: OSI Approved :: BSD License",
        # Tested on 3.8 only: Shuup 3.1's pinned dependencies fail to import on 3.9 and later.
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.8",
        "Topic :: Office/Business",
    ],
)
