"""Securing a camp: key and certificate files, and the broker's password file and ACL."""
