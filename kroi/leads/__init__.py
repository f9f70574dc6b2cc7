"""Leads: visitors' inquiries (contact, car inquiry, test drive, trade-in, financing) and their scoring."""
