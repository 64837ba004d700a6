"""The enterprise file (客户档案): enterprises, contacts, registered recipients, signatures."""
