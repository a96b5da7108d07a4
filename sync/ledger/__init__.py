"""What is kept: the store (every table), its migrations, and the records of users, customers and people."""
