"""Portal URLs; filled in by the portal issue."""

app_name = "portal"
urlpatterns: list = []
