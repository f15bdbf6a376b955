"""The Builder's pages: the wizard (``wizard``) and the data product and component pages (``pages``)."""
