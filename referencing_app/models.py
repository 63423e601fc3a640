# Dossiers, conformity review, decisions and referencings arrive with their own issue.
