"""The customer's side (SPEC §7): the public pages' settings (config), the links a customer holds
(links: the progress link, one-time survey links), what a customer may see of a complaint (view)
and the messages sent to them (outbound). The customer's own steps — rating and closing, adding
information — are workflow actions (domain/workflow/customer.py); the online form registers
through domain.intake. No Flask here."""
