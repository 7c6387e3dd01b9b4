"""facility_log: the security log of physical facilities."""
