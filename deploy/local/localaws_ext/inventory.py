"""stub"""


def install():
    pass
