"""Story header images: uploaded by editors, cleaned of metadata, stored and
served by the app itself (models, processing, services, views, forms)."""
