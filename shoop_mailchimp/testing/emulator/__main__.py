"""``python -m shoop_mailchimp.testing.emulator``: run a demo emulator in the foreground."""

import argparse
import logging
import time

from . import DEMO_API_KEY, DEMO_LIST_ID, Emulator
from .rules import RULES


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the Mailchimp Marketing API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=DEMO_API_KEY)
    parser.add_argument("--list-id", default=DEMO_LIST_ID)
    parser.add_argument(
        "--require-spec",
        action="store_true",
        help="refuse to start unless requests can be validated (the emulator extra)",
    )
    parser.add_argument(
        "--lenient",
        action="append",
        default=[],
        choices=sorted(RULES),
        metavar="RULE",
        help="switch off one of Mailchimp's rules (repeatable): " + ", ".join(sorted(RULES)),
    )
    parser.add_argument("--batch-seed", type=int, help="seed for the shuffled order of batch operations")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    emulator = Emulator(require_spec=args.require_spec, rules_off=args.lenient, batch_seed=args.batch_seed)
    api_key = emulator.add_account(args.api_key)
    list_id = emulator.add_list(api_key, "Demo audience", args.list_id)
    emulator.start(host=args.host, port=args.port)
    print(f"Mailchimp emulator listening on {emulator.base_url}", flush=True)
    print(f"API key: {api_key}", flush=True)
    print(f"List id: {list_id}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
