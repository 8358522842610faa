# Indian chart of accounts and GST taxes for Monitorbizz businesses.
