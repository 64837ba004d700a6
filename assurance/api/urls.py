"""URLs of this app's API; filled in by its issue."""

urlpatterns: list = []
