"""Account and audience (list) checks."""


def ping(client):
    return client.ping.get()


def get_list(client, list_id):
    return client.lists.get(list_id, fields="id,name,stats.member_count")


def all_lists(client):
    """The account's audiences as (id, name) pairs, for the admin's dropdown."""
    answer = client.lists.all(get_all=False, count=100, fields="lists.id,lists.name,total_items")
    return [(item["id"], item["name"]) for item in answer.get("lists", [])]
